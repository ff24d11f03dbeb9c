"""``/deployments``: the deployments, a deployment's page (schedules, next runs, a run-now
form made from its parameters, a pause/resume toggle), and ``/work-pools``.

The server's store is a :class:`~cadenza.store.sql.SqlStore`: runs and deployments."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cadenza.exceptions import ParameterTypeError
from cadenza.server.ui.auth import form_fields, same_origin
from cadenza.server.ui.deploy_forms import parameter_fields, read_form
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.templating import render, secure, set_flash
from cadenza.server.ui.work_pool_activity import pool_activity
from cadenza.store.base import FlowRunFilter
from cadenza.store.sql import SqlStore

router = APIRouter()

NEXT_RUNS = 10


@router.get("/deployments", include_in_schema=False)
def deployments_page(request: Request, store: SqlStore = Depends(get_store)) -> Response:
    rows = []
    for d in store.list_deployments():
        upcoming = store.list_scheduled_flow_runs(deployment_id=d.id, limit=1)
        rows.append((d, upcoming[0] if upcoming else None))
    return render(request, "deployments.html", {"section": "deployments", "rows": rows})


def _page(
    request: Request,
    store: SqlStore,
    deployment_id: str,
    *,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    d = store.read_deployment(deployment_id)
    if d is None:
        return render(
            request,
            "not_found.html",
            {"what": "deployment", "ident": deployment_id},
            status_code=404,
        )
    upcoming = store.list_scheduled_flow_runs(deployment_id=d.id, limit=NEXT_RUNS)
    recent = store.list_flow_runs(FlowRunFilter(flow_name=d.flow_name), limit=200)
    return render(
        request,
        "deployment.html",
        {
            "section": "deployments",
            "d": d,
            "upcoming": upcoming,
            "recent": [
                r
                for r in recent
                if r.deployment_id == d.id and r.state is not None and not r.state.is_scheduled()
            ][:10],
            "fields": parameter_fields(d.parameter_schema, d.parameters, errors, entered),
            "form_error": message,
        },
        status_code=400 if errors or message else 200,
    )


@router.get("/deployments/{deployment_id}", include_in_schema=False)
def deployment_page(
    request: Request, deployment_id: str, store: SqlStore = Depends(get_store)
) -> Response:
    return _page(request, store, deployment_id)


@router.post(
    "/deployments/{deployment_id}/run",
    include_in_schema=False,
    dependencies=[Depends(same_origin)],
)
async def run_now(
    request: Request, deployment_id: str, store: SqlStore = Depends(get_store)
) -> Response:
    from cadenza.deploy.backfill import run_deployment
    from cadenza.utilities.durations import InvalidDuration, parse_duration

    d = store.read_deployment(deployment_id)
    if d is None:
        return _page(request, store, deployment_id)
    form = await form_fields(request)
    values, entered = read_form(d.parameter_schema, form)
    start_at = None
    delay = form.get("start_in", "").strip()
    if delay:
        try:
            start_at = time.time() + parse_duration(delay, what="Start in")
        except InvalidDuration as exc:
            return _page(request, store, deployment_id, entered=entered, message=str(exc))
    try:
        run = run_deployment(store, d, values, start_at=start_at)
    except ParameterTypeError as exc:
        problems = getattr(exc, "problems", {})
        return _page(
            request, store, deployment_id, errors=problems, entered=entered, message=str(exc)
        )
    response = RedirectResponse(f"/runs/{run.id}?watch=1", 303)
    set_flash(
        response, "ok", f"Created flow run {run.name!r}; a worker of {d.work_pool_name!r} runs it."
    )
    return secure(response)


@router.post(
    "/deployments/{deployment_id}/schedule",
    include_in_schema=False,
    dependencies=[Depends(same_origin)],
)
async def toggle_schedule(
    request: Request, deployment_id: str, store: SqlStore = Depends(get_store)
) -> Response:
    from cadenza.deploy.scheduler import Scheduler
    from cadenza.exceptions import DeploymentNotFound

    form = await form_fields(request)
    paused = form.get("paused") == "true"
    try:
        d = store.set_deployment_paused(deployment_id, paused)
    except DeploymentNotFound:
        return _page(request, store, deployment_id)
    if not paused:
        Scheduler(store).schedule(d)
    response = RedirectResponse(f"/deployments/{deployment_id}", 303)
    set_flash(response, "ok", f"Schedules {'paused' if paused else 'resumed'}.")
    return secure(response)


@router.get("/work-pools", include_in_schema=False)
def work_pools_page(request: Request, store: SqlStore = Depends(get_store)) -> Response:
    pools = []
    for pool in store.list_work_pools():
        pools.append(
            {
                "pool": pool,
                "queues": store.list_work_queues(pool.name),
                "deployments": store.list_deployments(work_pool_name=pool.name),
                "waiting": len(
                    store.list_scheduled_flow_runs(work_pool_name=pool.name, limit=1000)
                ),
                **pool_activity(store, pool.name),
            }
        )
    return render(request, "work_pools.html", {"section": "work-pools", "pools": pools})
