"""``/runs/{id}``: one flow run, with its timeline, logs, artifacts and buttons.

While the run is not finished (or just after a button was pressed), the page asks
``/ui/runs/{id}/status`` every two seconds whether its state changed, and reloads
when it did.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cadenza.runs import FlowRun
from cadenza.server.ui.artifact_html import artifact_html
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.logs import log_page
from cadenza.server.ui.models import model_url, models_of_run
from cadenza.server.ui.templating import render, secure
from cadenza.server.ui.tracking_panel import tracking_panel
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter, RunStore

router = APIRouter()

TASKS_SHOWN = 100
SUBFLOWS_SHOWN = 100
ARTIFACTS_SHOWN = 50
RESUMABLE = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})


def not_found(request: Request, what: str, ident: str) -> Response:
    return render(request, "not_found.html", {"what": what, "ident": ident}, status_code=404)


def find_elsewhere(store: RunStore, ident: str, *, flow_runs: bool) -> str | None:
    """Where an id that is not a run of the page's kind leads: the other kind of run,
    or the one run whose id starts with it."""
    if flow_runs:
        if store.read_task_run(ident) is not None:
            return f"/task-runs/{ident}"
    elif store.read_flow_run(ident) is not None:
        return f"/runs/{ident}"
    if 4 <= len(ident) < 36:
        matches = store.resolve_run_id(ident)
        if len(matches) == 1:
            match = matches[0]
            if store.read_flow_run(match) is not None:
                return f"/runs/{match}"
            return f"/task-runs/{match}"
    return None


def _actions(run: FlowRun) -> dict[str, bool]:
    state = run.state
    return {
        "can_retry": state is not None and state.type in RESUMABLE,
        "can_cancel": state is None or not state.is_final(),
    }


@router.get("/runs/{run_id}", include_in_schema=False)
def run_page(
    request: Request,
    run_id: str,
    watch: str | None = None,
    store: RunStore = Depends(get_store),
) -> Response:
    run = store.read_flow_run(run_id)
    if run is None:
        elsewhere = find_elsewhere(store, run_id, flow_runs=True)
        if elsewhere:
            return secure(RedirectResponse(elsewhere, 303))
        return not_found(request, "flow run", run_id)
    live = run.state is None or not run.state.is_final()
    logs = log_page(store, run.id, live=live)
    parent = store.read_flow_run(run.parent_flow_run_id) if run.parent_flow_run_id else None
    tasks = store.list_task_runs(run.id, limit=TASKS_SHOWN + 1)
    task_counts = sorted(store.count_task_runs_by_state(run.id).items(), key=lambda item: -item[1])
    subflows = store.list_flow_runs(FlowRunFilter(parent_flow_run_id=run.id), limit=SUBFLOWS_SHOWN)
    artifacts = store.list_artifacts(flow_run_id=run.id, limit=ARTIFACTS_SHOWN)
    return render(
        request,
        "run.html",
        {
            "section": "runs",
            "run": run,
            "parent": parent,
            "tasks": tasks[:TASKS_SHOWN],
            "more_tasks": len(tasks) > TASKS_SHOWN,
            "task_counts": task_counts,
            "task_total": sum(n for _, n in task_counts),
            "subflows": subflows,
            "artifacts": artifacts,
            "rendered": {a.id: artifact_html(a) for a in artifacts},
            "models": models_of_run(store, run.id),
            "model_url": model_url,
            "page": logs,
            "live": live,
            "watch": bool(watch),
            "state_ts": repr(run.state.timestamp) if run.state else "",
            **_actions(run),
            **tracking_panel(request, run.id),
        },
    )


@router.get("/ui/runs/{run_id}/status", include_in_schema=False)
def run_status(
    request: Request, run_id: str, ts: str = "", store: RunStore = Depends(get_store)
) -> Response:
    """204 while the run's state is the one the page shows (``ts``); otherwise the page
    is told to reload."""
    run = store.read_flow_run(run_id)
    if run is None:
        return Response(status_code=404)
    current = repr(run.state.timestamp) if run.state else ""
    if current == ts:
        return Response(status_code=204)
    return Response(status_code=200, headers={"HX-Refresh": "true"})
