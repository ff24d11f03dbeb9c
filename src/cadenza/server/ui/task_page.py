"""``/task-runs/{id}``: one task run: inputs, states, logs, result and cache provenance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cadenza.runs import TaskRun
from cadenza.server.ui.artifact_html import artifact_html
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.logs import log_page
from cadenza.server.ui.run_page import find_elsewhere, not_found
from cadenza.server.ui.templating import render, secure
from cadenza.server.ui.tracking_panel import tracking_panel
from cadenza.store.base import RunStore

router = APIRouter()

RESULT_FIELDS = ("result", "serializer", "cache_key", "cached_from", "cache_expires")


def result_details(run: TaskRun) -> dict[str, Any]:
    """Where the result is stored and, for a Cached run, where it came from.

    Taken from the data of the run's latest state that has any (the final state).
    """
    for state in reversed(run.history or ([run.state] if run.state else [])):
        if state.data and any(k in state.data for k in RESULT_FIELDS):
            return {k: state.data[k] for k in RESULT_FIELDS if k in state.data}
    return {}


def _upstream(run: TaskRun) -> list[tuple[str, list[str]]]:
    return [(name, ids) for name, ids in (run.upstream or {}).items() if ids]


@router.get("/task-runs/{task_run_id}", include_in_schema=False)
def task_run_page(
    request: Request, task_run_id: str, store: RunStore = Depends(get_store)
) -> Response:
    run = store.read_task_run(task_run_id)
    if run is None:
        elsewhere = find_elsewhere(store, task_run_id, flow_runs=False)
        if elsewhere:
            return secure(RedirectResponse(elsewhere, 303))
        return not_found(request, "task run", task_run_id)
    flow_run = store.read_flow_run(run.flow_run_id) if run.flow_run_id else None
    live = run.state is None or not run.state.is_final()
    page = None
    if run.flow_run_id:
        page = log_page(
            store,
            run.flow_run_id,
            task_run_id=run.id,
            live=live,
            names={run.id: run.name},
        )
    artifacts = store.list_artifacts(task_run_id=run.id, limit=50)
    details = result_details(run)
    cached_from = None
    if details.get("cached_from"):
        cached_from = store.read_task_run(str(details["cached_from"]))
    return render(
        request,
        "task_run.html",
        {
            "section": "runs",
            "run": run,
            "flow_run": flow_run,
            "page": page,
            "artifacts": artifacts,
            "rendered": {a.id: artifact_html(a) for a in artifacts},
            "details": details,
            "cached_from": cached_from,
            "upstream": _upstream(run),
            **tracking_panel(request, run.id),
        },
    )
