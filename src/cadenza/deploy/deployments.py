"""Deployments: a flow's entrypoint with its parameters, work pool and schedules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cadenza.deploy.pools import DEFAULT_QUEUE
from cadenza.deploy.schedules import Schedule

if TYPE_CHECKING:
    from cadenza.flows import Flow
    from cadenza.store.deploy_base import DeploymentStore

logger = logging.getLogger("cadenza.deploy")

CatchUp = Literal["all", "latest", "skip"]
CATCHUP_POLICIES: tuple[str, ...] = ("all", "latest", "skip")
"""What happens to runs that missed their time (Late runs) when workers come back:
``all`` runs every one of them, ``latest`` only the most recent of a deployment (the
others end Skipped), ``skip`` none of them (they end Skipped)."""


@dataclasses.dataclass(slots=True)
class DeploymentSchedule:
    """One schedule of a deployment, which the scheduler follows while it is active."""

    schedule: Schedule
    active: bool = True
    id: str | None = None
    """Given by the store."""


@dataclasses.dataclass(slots=True)
class Deployment:
    """A flow made to run by itself: where its code is, with which parameters, on
    which work pool, and when.

    ``parameter_schema`` is the JSON schema of the flow's parameters (built from its
    signature when the deployment is made): runs are checked against it before they
    are created, and the UI builds its form from it.
    """

    flow_name: str
    name: str
    entrypoint: str
    """``path/to/file.py:function`` (relative to ``path``) or ``module:function``."""
    work_pool_name: str
    work_queue_name: str = DEFAULT_QUEUE
    path: str | None = None
    """The folder the flow runs in; None for the worker's own folder."""
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Default parameters of its runs (a run's own parameters take precedence)."""
    parameter_schema: dict[str, Any] = dataclasses.field(default_factory=dict)
    tags: list[str] = dataclasses.field(default_factory=list)
    description: str | None = None
    version: str | None = None
    """The code version (the flow's version, or a hash of its file)."""
    paused: bool = False
    """A paused deployment's schedules create no runs."""
    concurrency_limit: int | None = None
    """How many of its runs may be active at once (None: no bound)."""
    catchup: str = "all"
    """See :data:`CATCHUP_POLICIES`."""
    flow_retries: int = 0
    """How many times a crashed run is run again (the flow's ``retries``)."""
    schedules: list[DeploymentSchedule] = dataclasses.field(default_factory=list)
    id: str | None = None
    """Given by the store."""
    created: float = 0.0
    updated: float = 0.0

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, as the command line names it."""
        return f"{self.flow_name}/{self.name}"


def check_deployment(deployment: Deployment) -> None:
    """Raise :class:`~cadenza.exceptions.DeploymentError` naming the first invalid field."""
    from cadenza.deploy.pools import check_limit, check_name
    from cadenza.exceptions import DeploymentError

    d = deployment
    check_name(d.name, "a deployment")
    if not d.flow_name:
        raise DeploymentError("A deployment needs the name of its flow.")
    if not d.entrypoint or ":" not in d.entrypoint:
        raise DeploymentError(
            f"Deployment {d.name!r}: the entrypoint {d.entrypoint!r} is not of the form "
            "'path/to/file.py:function' or 'module:function'."
        )
    if not d.work_pool_name:
        raise DeploymentError(f"Deployment {d.name!r} needs a work pool (--pool NAME).")
    check_limit(d.concurrency_limit, f"deployment {d.name!r}")
    if d.catchup not in CATCHUP_POLICIES:
        raise DeploymentError(
            f"Deployment {d.name!r}: the catch-up policy {d.catchup!r} is not one of "
            f"{', '.join(CATCHUP_POLICIES)}."
        )
    if (
        isinstance(d.flow_retries, bool)
        or not isinstance(d.flow_retries, int)
        or d.flow_retries < 0
    ):
        raise DeploymentError(
            f"Deployment {d.name!r}: flow_retries must be 0 or more, got {d.flow_retries!r}."
        )
    if not isinstance(d.parameters, dict):
        raise DeploymentError(
            f"Deployment {d.name!r}: parameters must be a mapping, got {d.parameters!r}."
        )


def build_deployment(
    flow: Flow[Any, Any],
    name: str,
    *,
    work_pool_name: str,
    entrypoint: str | None = None,
    path: str | Path | None = None,
    work_queue_name: str = DEFAULT_QUEUE,
    schedules: Sequence[Schedule | DeploymentSchedule] = (),
    parameters: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    description: str | None = None,
    version: str | None = None,
    paused: bool = False,
    concurrency_limit: int | None = None,
    catchup: str = "all",
) -> Deployment:
    """The deployment of ``flow`` with these options (not saved yet).

    Its parameter schema comes from the flow's signature, and its default
    ``parameters`` are checked against it; its retries, version, description and tags
    from the flow unless given. Without ``entrypoint``, the flow's own: its file
    relative to ``path`` (default: the current folder) when it is inside it, else
    ``module:function``.

    Raises:
        DeploymentError: the flow cannot be imported by a worker (defined inside a
            function), or an option is invalid.
        ParameterTypeError: the default parameters do not fit the flow.
    """
    from cadenza.deploy.parameters import parameter_schema, validate_parameters
    from cadenza.exceptions import DeploymentError

    folder = Path(path).expanduser().resolve() if path is not None else Path.cwd()
    target = entrypoint or _entrypoint_of(flow, folder)
    schema = parameter_schema(flow)
    defaults = dict(parameters or {})
    if defaults:
        defaults = validate_parameters(
            {**schema, "required": []}, defaults, owner=f"flow {flow.name!r}"
        )
    if not isinstance(catchup, str):
        raise DeploymentError(f"catchup must be one of {', '.join(CATCHUP_POLICIES)}.")
    deployment = Deployment(
        flow_name=flow.name,
        name=name,
        entrypoint=target,
        work_pool_name=work_pool_name,
        work_queue_name=work_queue_name,
        path=str(folder),
        parameters=defaults,
        parameter_schema=schema,
        tags=sorted({*flow.tags, *tags}),
        description=description if description is not None else flow.description,
        version=version if version is not None else flow.resolved_version(),
        paused=paused,
        concurrency_limit=concurrency_limit,
        catchup=catchup,
        flow_retries=flow.retries,
        schedules=[
            s if isinstance(s, DeploymentSchedule) else DeploymentSchedule(s) for s in schedules
        ],
    )
    check_deployment(deployment)
    return deployment


def _entrypoint_of(flow: Flow[Any, Any], folder: Path) -> str:
    from cadenza.exceptions import DeploymentError

    found = flow.entrypoint
    if found is None:
        raise DeploymentError(
            f"Flow {flow.name!r} is defined inside a function, so a worker cannot import it: "
            "define it at the top level of a module, or give entrypoint='path/file.py:function'."
        )
    target, _, qualname = found.rpartition(":")
    module = getattr(flow.fn, "__module__", "") or ""
    if target.endswith(".py") or module.startswith("cadenza_entry_"):
        import inspect

        source = Path(inspect.getsourcefile(flow.fn) or target).resolve()
        try:
            return f"{source.relative_to(folder).as_posix()}:{qualname}"
        except ValueError:
            return f"{source}:{qualname}"
    return found


def schedules_from_options(
    *,
    cron: str | Sequence[str] | None = None,
    interval: float | dt.timedelta | Sequence[float | dt.timedelta] | None = None,
    rrule: str | Sequence[str] | None = None,
    timezone: str | None = None,
    anchor_date: dt.datetime | None = None,
) -> list[DeploymentSchedule]:
    """The schedules given as ``cron=``, ``interval=`` and ``rrule=`` (each one value or
    several), all in ``timezone`` (default UTC).

    Raises:
        ScheduleError: a value is invalid.
    """
    from cadenza.deploy.schedules import Cron, Interval, RRule

    tz = timezone or "UTC"
    out: list[DeploymentSchedule] = []
    for c in _many(cron):
        out.append(DeploymentSchedule(Cron(c, tz)))
    for i in _many(interval):
        out.append(DeploymentSchedule(Interval(i, anchor_date, tz)))
    for r in _many(rrule):
        out.append(DeploymentSchedule(RRule(r, tz)))
    return out


def deployment_from_options(
    flow: Flow[Any, Any],
    name: str,
    *,
    cron: str | Sequence[str] | None = None,
    interval: float | dt.timedelta | Sequence[float | dt.timedelta] | None = None,
    rrule: str | Sequence[str] | None = None,
    timezone: str | None = None,
    anchor_date: dt.datetime | None = None,
    schedules: Sequence[Schedule | DeploymentSchedule] | None = None,
    **fields: Any,
) -> Deployment:
    """The deployment of ``flow`` with the schedules given as ``cron=``, ``interval=``,
    ``rrule=`` (:func:`schedules_from_options`) and ``schedules``, and the other fields
    of :func:`build_deployment` (not saved yet).

    Raises:
        DeploymentError, ScheduleError, ParameterTypeError: an invalid option.
    """
    given = schedules_from_options(
        cron=cron, interval=interval, rrule=rrule, timezone=timezone, anchor_date=anchor_date
    )
    return build_deployment(flow, name, schedules=[*given, *(schedules or [])], **fields)


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | int | float | dt.timedelta):
        return [value]
    return list(value)


def save_and_schedule(deployment: Deployment, store: DeploymentStore | None = None) -> Deployment:
    """Save ``deployment`` (creating its work pool when it does not exist) and create
    its first scheduled runs at once; returns the saved deployment.

    Raises:
        WorkQueueNotFound: the pool exists and has no such queue.
    """
    from cadenza.deploy.pools import WorkPool
    from cadenza.deploy.scheduler import Scheduler

    if store is None:
        from cadenza.client import get_deployment_store

        store = get_deployment_store()
    if store.read_work_pool(deployment.work_pool_name) is None:
        from cadenza.exceptions import ObjectAlreadyExists

        try:
            store.create_work_pool(WorkPool(deployment.work_pool_name))
            logger.info("Created work pool %r.", deployment.work_pool_name)
        except ObjectAlreadyExists:  # created by another process meanwhile
            pass
    saved = store.save_deployment(deployment)
    Scheduler(store).schedule(saved)
    return saved
