"""``/api/task_runs/{id}`` and ``/api/flow_runs/{id}/task_runs``: task runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.runs import TaskRun
from cadenza.server.api import convert, models
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import not_found, responses
from cadenza.server.api.flow_runs import read_flow_run
from cadenza.server.api.params import MAX_LOG_PAGE, cursor_param
from cadenza.store.base import RunStore

router = APIRouter(tags=["task runs"])


def read_task_run(store: RunStore, task_run_id: str) -> TaskRun:
    """The task run with this id (and its history), or a 404 error."""
    run = store.read_task_run(task_run_id)
    if run is None:
        raise not_found("task run", task_run_id)
    return run


@router.get(
    "/flow_runs/{flow_run_id}/task_runs",
    response_model=models.TaskRunPage,
    responses=responses(400, 404),
)
def list_task_runs(
    flow_run_id: str,
    limit: int = Query(200, ge=1, le=MAX_LOG_PAGE, description=f"At most {MAX_LOG_PAGE}."),
    cursor: str | None = Depends(cursor_param),
    store: RunStore = Depends(get_store),
) -> Response:
    """List the task runs of a flow run, oldest first, in compact rows.

    Task runs of its subflows are not included; a subflow call appears as a row of
    kind ``subflow`` whose ``subflow_run_id`` is the subflow run. Pass ``next_cursor``
    as ``cursor`` for the next page.
    """
    run = read_flow_run(store, flow_run_id)
    found = store.list_task_runs(run.id, limit=limit + 1, after_id=cursor)
    page = found[:limit]
    return convert.respond(
        models.TaskRunPage(
            items=[convert.task_run_row(t) for t in page],
            next_cursor=page[-1].id if len(found) > limit else None,
        )
    )


@router.get(
    "/task_runs/{task_run_id}", response_model=models.TaskRunDetail, responses=responses(404)
)
def read_task_run_detail(task_run_id: str, store: RunStore = Depends(get_store)) -> Response:
    """Read one task run: its inputs, state history and where its result is.

    ``inputs`` summarizes each argument (its type and size, or a small value) or names
    the upstream task runs it came from. ``result`` says where a persisted result is
    stored; ``cache``, for a Cached run, which task run computed the reused result.
    """
    return convert.respond(convert.task_run_detail(read_task_run(store, task_run_id)))
