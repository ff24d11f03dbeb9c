"""Backfills and runs started by hand: checking parameters, then creating the runs.

A backfill creates one run per time of the deployment's schedules in a past range.
Each run is due at once, and stands for its schedule's time: that time is what
:data:`cadenza.runtime.flow_run.scheduled_start_time` gives the flow, and
``--param-from-date`` sets parameters from it (the year and month of the data to
process, for instance).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cadenza.deploy.parameters import validate_parameters
from cadenza.deploy.runs import new_deployment_run
from cadenza.exceptions import DeploymentError

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment
    from cadenza.runs import FlowRun
    from cadenza.store.deploy_base import DeploymentStore

BACKFILL_PREFIX = "backfill:"
_NUMBERS = ("year", "month", "day", "hour", "minute")


def check_run_parameters(deployment: Deployment, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a new run of ``deployment`` (its defaults with ``parameters``
    over them), checked against its parameter schema.

    Raises:
        ParameterTypeError: naming the parameter, the type it takes and the flow's
            parameters.
    """
    merged = {**deployment.parameters, **parameters}
    owner = f"deployment {deployment.full_name!r}"
    return validate_parameters(deployment.parameter_schema, merged, owner=owner)


def run_deployment(
    store: DeploymentStore,
    deployment: Deployment,
    parameters: Mapping[str, Any] | None = None,
    *,
    start_at: float | None = None,
    tags: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> FlowRun:
    """Create a run of ``deployment`` due at ``start_at`` (default now) with these
    parameters, after checking them; returns the run (or the one created earlier with
    the same ``idempotency_key``).

    Raises:
        ParameterTypeError: the parameters do not fit the flow; nothing is created.
    """
    now = time.time()
    checked = check_run_parameters(deployment, parameters or {})
    run = new_deployment_run(
        deployment,
        now if start_at is None else start_at,
        parameters=checked,
        tags=tags,
        idempotency_key=idempotency_key,
        message="Created by hand.",
        now=now,
    )
    created = store.create_scheduled_flow_runs([run])
    if created:
        return created[0]
    for found in store.list_scheduled_flow_runs(deployment_id=deployment.id, limit=10_000):
        if found.idempotency_key == idempotency_key:
            return found
    return run


@dataclasses.dataclass
class BackfillResult:
    created: list[FlowRun]
    """The runs created, oldest schedule time first."""
    existing: int
    """Times of the range that had their backfill run already."""
    times: list[dt.datetime]
    """Every schedule time of the range."""


def parse_date_specs(specs: Sequence[str]) -> list[tuple[str, str | None]]:
    """``--param-from-date`` values: ``NAME`` or ``NAME=FORMAT`` (strftime).

    Raises:
        DeploymentError: a value has no name.
    """
    out = []
    for spec in specs:
        name, sep, fmt = spec.partition("=")
        if not name.strip() or (sep and not fmt):
            raise DeploymentError(
                f"--param-from-date {spec!r} is not NAME or NAME=FORMAT (e.g. month, or "
                "period=%Y-%m)."
            )
        out.append((name.strip(), fmt or None))
    return out


def date_parameters(when: dt.datetime, specs: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """Parameters set from a schedule time: ``year``, ``month``, ``day``, ``hour`` and
    ``minute`` get that number; another name the date (``2024-03-01``); a name with a
    format, the time written with it (``period=%Y-%m`` gives ``2024-03``)."""
    out: dict[str, Any] = {}
    for name, fmt in specs:
        if fmt is not None:
            out[name] = when.strftime(fmt)
        elif name in _NUMBERS:
            out[name] = getattr(when, name)
        else:
            out[name] = when.date().isoformat()
    return out


def backfill(
    store: DeploymentStore,
    deployment: Deployment,
    start: dt.datetime | float,
    end: dt.datetime | float,
    *,
    parameters: Mapping[str, Any] | None = None,
    param_from_date: Sequence[str] = (),
    max_runs: int = 1000,
) -> BackfillResult:
    """Create one run of ``deployment`` per time of its active schedules at or after
    ``start`` and before ``end`` (naive datetimes are in each schedule's timezone).

    Every parameter set is checked before any run is created. A time whose backfill
    run exists already (the same backfill made twice) gets no second run.

    Raises:
        DeploymentError: the deployment has no active schedule, the range is empty
            or holds more than ``max_runs`` times.
        ParameterTypeError: the parameters of some time do not fit the flow.
    """
    active = [s.schedule for s in deployment.schedules if s.active]
    if not active:
        raise DeploymentError(
            f"Deployment {deployment.full_name!r} has no active schedule to backfill; "
            "deploy it with --cron, --interval or --rrule."
        )
    specs = parse_date_specs(param_from_date)
    times: dict[float, dt.datetime] = {}
    for schedule in active:
        for t in schedule.next_times(start, end, limit=max_runs + 1):
            times.setdefault(t.timestamp(), t)
    ordered = [times[k] for k in sorted(times)]
    if not ordered:
        raise DeploymentError(
            f"The schedules of {deployment.full_name!r} have no time in the range given; "
            "check --start and --end."
        )
    if len(ordered) > max_runs:
        raise DeploymentError(
            f"The range holds more than {max_runs} schedule times; backfill a shorter range."
        )
    now = time.time()
    runs = []
    for i, when in enumerate(ordered):
        values = {**(parameters or {}), **date_parameters(when, specs)}
        checked = check_run_parameters(deployment, values)
        key = f"{BACKFILL_PREFIX}{when.timestamp()!r}"
        run = new_deployment_run(
            deployment,
            now + i * 1e-6,  # due now, in schedule order
            parameters=checked,
            idempotency_key=key,
            timezone=str(when.tzinfo),
            message=f"Backfill of {when.isoformat()}.",
            schedule_time=when.timestamp(),
            now=now,
        )
        runs.append(run)
    created = store.create_scheduled_flow_runs(runs)
    return BackfillResult(created=created, existing=len(runs) - len(created), times=ordered)
