"""``/api/deployments``: deployments, their next runs, runs by hand and backfills."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import JSONResponse, Response

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.serialize import deployment_from_json, deployment_json
from cadenza.server.api import convert
from cadenza.server.api.deploy_models import BackfillBody, DeploymentBody, RunBody
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, invalid, responses
from cadenza.store.deploy_base import DeploymentStore

router = APIRouter(tags=["deployments"])


def read_deployment(store: DeploymentStore, deployment_id: str) -> Deployment:
    """The deployment with this id, or a 404 error naming those that exist."""
    found = store.read_deployment(deployment_id)
    if found is None:
        names = ", ".join(d.full_name for d in store.list_deployments()[:20]) or "none yet"
        raise ApiError(
            "NOT_FOUND", f"There is no deployment with id {deployment_id!r}. Deployments: {names}."
        )
    return found


def _json(value: Any, status: int = 200) -> Response:
    return JSONResponse(value, status_code=status)


def runs_json(runs: list[Any]) -> dict[str, Any]:
    return {"items": [convert.flow_run(r).model_dump(mode="json") for r in runs]}


@router.get("/deployments", responses=responses(400))
def list_deployments(
    flow_name: str | None = Query(None, description="Only deployments of this flow."),
    work_pool_name: str | None = Query(None, description="Only deployments of this pool."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """List deployments by flow name, then name, with their schedules."""
    found = store.list_deployments(flow_name=flow_name, work_pool_name=work_pool_name)
    return _json({"items": [deployment_json(d) for d in found]})


@router.post("/deployments", responses=responses(400, 404))
def save_deployment(body: DeploymentBody, store: DeploymentStore = Depends(get_store)) -> Response:
    """Create a deployment, or update the one of the same flow and name (its id and
    creation time are kept). Its work pool and queue must exist (404 otherwise)."""
    from cadenza.exceptions import ScheduleError

    try:
        deployment = deployment_from_json(body.model_dump(exclude={"now"}))
    except ScheduleError as exc:
        raise invalid("schedules", str(exc)) from None
    return _json(deployment_json(store.save_deployment(deployment, now=body.now)))


@router.get("/deployments/name/{flow_name}/{name}", responses=responses(404))
def read_deployment_by_name(
    flow_name: str, name: str, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Read the deployment ``name`` of the flow ``flow_name``."""
    found = store.read_deployment_by_name(flow_name, name)
    if found is None:
        raise ApiError("NOT_FOUND", f"There is no deployment {flow_name}/{name}.")
    return _json(deployment_json(found))


@router.get("/deployments/{deployment_id}", responses=responses(404))
def read_deployment_route(
    deployment_id: str, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Read one deployment with its schedules."""
    return _json(deployment_json(read_deployment(store, deployment_id)))


@router.delete("/deployments/{deployment_id}")
def delete_deployment(deployment_id: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """Delete a deployment and its runs that have not started; ``deleted`` is false when
    there was no such deployment."""
    return _json({"deleted": store.delete_deployment(deployment_id)})


@router.post("/deployments/{deployment_id}/pause", responses=responses(404))
def pause_deployment(
    deployment_id: str,
    now: float | None = Query(None, description="The time of the change (epoch seconds)."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """Pause the deployment's schedules: their future runs are deleted."""
    return _json(deployment_json(store.set_deployment_paused(deployment_id, True, now=now)))


@router.post("/deployments/{deployment_id}/resume", responses=responses(404))
def resume_deployment(
    deployment_id: str,
    now: float | None = Query(None, description="The time of the change (epoch seconds)."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """Resume the deployment's schedules; their next runs are created at once."""
    from cadenza.deploy.scheduler import Scheduler

    resumed = store.set_deployment_paused(deployment_id, False, now=now)
    Scheduler(store).schedule(resumed, now)
    return _json(deployment_json(resumed))


@router.get("/deployments/{deployment_id}/next_runs", responses=responses(404))
def next_runs(
    deployment_id: str,
    limit: int = Query(10, ge=1, le=1000),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """The deployment's runs that wait to start (Scheduled, Late...), soonest first."""
    read_deployment(store, deployment_id)
    return _json(
        runs_json(store.list_scheduled_flow_runs(deployment_id=deployment_id, limit=limit))
    )


@router.post("/deployments/{deployment_id}/runs", status_code=201, responses=responses(400, 404))
def create_run(
    deployment_id: str, body: RunBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Create a run of the deployment, due now or at ``start_at_epoch`` (or in
    ``start_in_seconds``). Its parameters are the deployment's with the body's over
    them, checked against the flow's parameters first: 400 names the parameter at
    fault, the type it takes and the flow's parameters."""
    from cadenza.deploy.backfill import run_deployment

    deployment = read_deployment(store, deployment_id)
    start = body.start_at_epoch
    if body.start_in_seconds is not None:
        start = time.time() + body.start_in_seconds
    run = run_deployment(
        store,
        deployment,
        body.parameters,
        start_at=start,
        tags=body.tags,
        idempotency_key=body.idempotency_key,
    )
    return _json(convert.flow_run(run).model_dump(mode="json"), 201)


@router.post(
    "/deployments/{deployment_id}/backfill", status_code=201, responses=responses(400, 404)
)
def backfill_deployment(
    deployment_id: str, body: BackfillBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Create one run per time of the deployment's schedules from ``start`` to ``end``,
    each due now and standing for its schedule time (see ``cadenza deployment
    backfill``). Making the same backfill again creates only the missing runs."""
    from cadenza.deploy.backfill import backfill

    deployment = read_deployment(store, deployment_id)
    start, end = _date("start", body.start), _date("end", body.end)
    result = backfill(
        store,
        deployment,
        start,
        end,
        parameters=body.parameters,
        param_from_date=body.param_from_date,
    )
    return _json(
        {
            **runs_json(result.created),
            "existing": result.existing,
            "times": [t.isoformat() for t in result.times],
        },
        201,
    )


def _date(field: str, text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid(field, f"{text!r} is not an ISO date or date-time") from None
