"""``/api/flow_runs/{id}/logs`` and ``/api/task_runs/{id}/logs``: log lines of runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.runs import LogEntry
from cadenza.server.api import convert, models
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import responses
from cadenza.server.api.flow_runs import read_flow_run
from cadenza.server.api.params import MAX_LOG_PAGE, parse_level
from cadenza.server.api.task_runs import read_task_run
from cadenza.store.base import RunStore

router = APIRouter(tags=["logs"])

_AFTER_ID = Query(
    None,
    ge=0,
    description="Only lines written after the line with this id: the next_after_id of "
    "the previous answer, to follow a running run.",
)
_LEVEL = Query(
    None, description="Only lines at this level or above: DEBUG, INFO, WARNING, ERROR or 0-100."
)
_LIMIT = Query(500, ge=1, le=MAX_LOG_PAGE, description=f"At most {MAX_LOG_PAGE}.")


def log_page(entries: list[LogEntry], limit: int, after_id: int | None) -> models.LogPage:
    page = entries[:limit]
    return models.LogPage(
        items=[convert.log_line(e) for e in page],
        next_after_id=page[-1].id if page else after_id,
        has_more=len(entries) > limit,
    )


@router.get(
    "/flow_runs/{flow_run_id}/logs", response_model=models.LogPage, responses=responses(400, 404)
)
def flow_run_logs(
    flow_run_id: str,
    after_id: int | None = _AFTER_ID,
    level: str | None = _LEVEL,
    task_run_id: str | None = Query(None, description="Only the lines of this task run."),
    include_subflows: bool = Query(
        False, description="Also the lines of its subflow runs, at any depth."
    ),
    limit: int = _LIMIT,
    store: RunStore = Depends(get_store),
) -> Response:
    """Read the log lines of a flow run (and of its task runs) in the order written.

    To follow a running run, call again with ``after_id`` set to the answer's
    ``next_after_id``: only newer lines come back. ``has_more`` says that the limit
    cut the answer short.
    """
    run = read_flow_run(store, flow_run_id)
    entries = store.read_logs(
        run.id,
        task_run_id=task_run_id,
        after_id=after_id,
        limit=limit + 1,
        min_level=parse_level("level", level),
        include_subflows=include_subflows,
    )
    return convert.respond(log_page(entries, limit, after_id))


@router.get(
    "/task_runs/{task_run_id}/logs", response_model=models.LogPage, responses=responses(400, 404)
)
def task_run_logs(
    task_run_id: str,
    after_id: int | None = _AFTER_ID,
    level: str | None = _LEVEL,
    limit: int = _LIMIT,
    store: RunStore = Depends(get_store),
) -> Response:
    """Read the log lines of one task run in the order written (see the flow run's)."""
    task_run = read_task_run(store, task_run_id)
    entries: list[LogEntry] = []
    if task_run.flow_run_id is not None:
        entries = store.read_logs(
            task_run.flow_run_id,
            task_run_id=task_run.id,
            after_id=after_id,
            limit=limit + 1,
            min_level=parse_level("level", level),
        )
    return convert.respond(log_page(entries, limit, after_id))
