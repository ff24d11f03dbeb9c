"""Building the flow runs of a deployment, before the store creates them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from cadenza.deploy.deployments import Deployment
from cadenza.runs import FlowRun
from cadenza.states import Scheduled
from cadenza.store.deploy_base import AUTO_SCHEDULED_PREFIX
from cadenza.utilities.ids import uuid7


def scheduled_key(scheduled_time: float) -> str:
    """The idempotency key of the scheduler's run of a deployment at this time."""
    return f"{AUTO_SCHEDULED_PREFIX}{scheduled_time!r}"


def new_deployment_run(
    deployment: Deployment,
    scheduled_time: float,
    *,
    parameters: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    tags: Iterable[str] = (),
    timezone: str | None = None,
    message: str | None = None,
    schedule_time: float | None = None,
    now: float | None = None,
) -> FlowRun:
    """A new flow run of ``deployment`` due at ``scheduled_time``, in state Scheduled.

    Its parameters are the deployment's defaults updated with ``parameters`` (not
    checked here: see :func:`cadenza.deploy.parameters.validate_parameters`); its tags
    the deployment's and ``tags``. ``timezone`` (the schedule's) is recorded in the
    Scheduled state, for :data:`cadenza.runtime.flow_run.scheduled_start_time`, and so
    is ``schedule_time``, the schedule's time a run due at another time stands for
    (a backfill's runs are due now and stand for past times).
    """
    from cadenza.utilities.names import generate_run_name

    created = time.time() if now is None else now
    if deployment.id is None:
        raise ValueError("the deployment must be saved (have an id) before it has runs")
    data: dict[str, Any] = {}
    if timezone:
        data["timezone"] = timezone
    if schedule_time is not None:
        data["schedule_time"] = schedule_time
    return FlowRun(
        id=uuid7(),
        name=generate_run_name(),
        flow_name=deployment.flow_name,
        parameters={**deployment.parameters, **(parameters or {})},
        tags=sorted({*deployment.tags, *tags}),
        created=created,
        version=deployment.version,
        entrypoint=deployment.entrypoint,
        deployment_id=deployment.id,
        work_pool_name=deployment.work_pool_name,
        work_queue_name=deployment.work_queue_name,
        expected_start_time=scheduled_time,
        idempotency_key=idempotency_key,
        state=Scheduled(scheduled_time, timestamp=created, message=message, data=data or None),
    )
