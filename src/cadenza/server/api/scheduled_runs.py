"""``/api/scheduled_flow_runs`` and ``/api/flow_runs/{id}/set_state``: the runs of
deployments as the deployment store has them, for clients of the server (the command
line, workers and executed runs with ``CADENZA_API_URL`` set)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import JSONResponse, Response

from cadenza.events import FlowRunCreated
from cadenza.events_json import InvalidEvents, decode_event
from cadenza.server.api.deploy_models import MarkLateBody, ScheduledRunsBody, StateChange
from cadenza.server.api.deployments import runs_json
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import invalid, responses
from cadenza.states import State, StateType
from cadenza.store.deploy_base import DeploymentStore

router = APIRouter(tags=["runs of deployments"])


@router.post("/scheduled_flow_runs", status_code=201, responses=responses(400))
def create_scheduled_flow_runs(
    body: ScheduledRunsBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Create runs of deployments, each once per idempotency key; answers those created."""
    runs = []
    for i, item in enumerate(body.runs):
        try:
            event = decode_event(item, i)
        except InvalidEvents as exc:
            raise invalid("runs", str(exc)) from None
        if not isinstance(event, FlowRunCreated):
            raise invalid("runs", f"run {i} is not a flow_run_created event")
        event.run.state = event.state
        runs.append(event.run)
    return JSONResponse(runs_json(store.create_scheduled_flow_runs(runs)), status_code=201)


@router.get("/scheduled_flow_runs", responses=responses(400))
def list_scheduled_flow_runs(
    deployment_id: str | None = Query(None),
    work_pool_name: str | None = Query(None),
    before: float | None = Query(None, description="Only runs due before (epoch seconds)."),
    state_name: list[str] | None = Query(None, description="Only runs in states of these names."),
    limit: int = Query(100, ge=1, le=10_000),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """Runs of deployments waiting to start (a Scheduled-type state), soonest due first."""
    found = store.list_scheduled_flow_runs(
        deployment_id=deployment_id,
        work_pool_name=work_pool_name,
        before=before,
        state_names=state_name,
        limit=limit,
    )
    return JSONResponse(runs_json(found))


@router.post("/scheduled_flow_runs/mark_late")
def mark_late_flow_runs(
    body: MarkLateBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Mark Late the runs still Scheduled that were due before ``before``."""
    marked = store.mark_late_flow_runs(before=body.before, now=body.now, limit=body.limit)
    return JSONResponse(runs_json(marked))


@router.post("/flow_runs/{flow_run_id}/set_state", responses=responses(400))
def set_flow_run_state(
    flow_run_id: str, body: StateChange, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Add a state to a flow run if its current state's type is one of ``current``
    (a compare-and-set); ``changed`` says whether it was added."""
    try:
        state = State.from_dict(body.state)
        current = [StateType(t) for t in body.current]
    except (KeyError, ValueError, TypeError) as exc:
        raise invalid("state", f"not a state: {exc}") from None
    changed = store.add_flow_run_state_if(flow_run_id, state, current=current)
    return JSONResponse({"changed": changed})
