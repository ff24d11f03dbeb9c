"""``/api/flow_runs``: listing, counting and reading flow runs, and their subflow runs."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.runs import FlowRun
from cadenza.server.api import convert, models
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import not_found, responses
from cadenza.server.api.params import MAX_PAGE, cursor_param, flow_run_filter
from cadenza.store.base import FlowRunFilter, RunStore

router = APIRouter(tags=["flow runs"])

Sort = Literal["newest", "oldest"]


def read_flow_run(store: RunStore, flow_run_id: str) -> FlowRun:
    """The flow run with this id (and its history), or a 404 error."""
    run = store.read_flow_run(flow_run_id)
    if run is None:
        raise not_found("flow run", flow_run_id)
    return run


def flow_run_page(
    store: RunStore, f: FlowRunFilter, *, limit: int, cursor: str | None, sort: Sort
) -> models.FlowRunPage:
    """One page of the flow runs matching ``f``, starting after ``cursor``."""
    oldest = sort == "oldest"
    found = store.list_flow_runs(
        f,
        limit=limit + 1,
        before_id=None if oldest else cursor,
        after_id=cursor if oldest else None,
        oldest_first=oldest,
    )
    page = found[:limit]
    return models.FlowRunPage(
        items=[convert.flow_run(r) for r in page],
        next_cursor=page[-1].id if len(found) > limit else None,
    )


@router.get("/flow_runs", response_model=models.FlowRunPage, responses=responses(400))
def list_flow_runs(
    f: FlowRunFilter = Depends(flow_run_filter),
    sort: Sort = Query("newest", description="newest (the default) or oldest first."),
    limit: int = Query(50, ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE}."),
    cursor: str | None = Depends(cursor_param),
    store: RunStore = Depends(get_store),
) -> Response:
    """List flow runs, newest first, one page at a time.

    Filters combine: a run must match all of them, and one of the ``state`` values.
    The response's ``next_cursor``, passed back as ``cursor`` with the same filters
    and sort, gives the next page; it is null on the last page. Pages have no gaps
    and no repeats even while new runs are recorded (new runs appear on the first
    page when listing newest first). The runs come without their state history.
    """
    return convert.respond(flow_run_page(store, f, limit=limit, cursor=cursor, sort=sort))


@router.get("/flow_runs/count", response_model=models.Count, responses=responses(400))
def count_flow_runs(
    f: FlowRunFilter = Depends(flow_run_filter), store: RunStore = Depends(get_store)
) -> Response:
    """Count the flow runs matching the filters of ``GET /api/flow_runs``.

    A separate call, so that paging does not pay for counting: filters on the flow,
    states, parent and times are answered from indexes; a tag filter reads every run.
    """
    return convert.respond(models.Count(count=store.count_flow_runs(f)))


@router.get(
    "/flow_runs/{flow_run_id}", response_model=models.FlowRunDetail, responses=responses(404)
)
def read_flow_run_detail(flow_run_id: str, store: RunStore = Depends(get_store)) -> Response:
    """Read one flow run with its state history.

    Also gives how many of its task runs are in each state type, and whether it can be
    cancelled or retried now.
    """
    run = read_flow_run(store, flow_run_id)
    counts = store.count_task_runs_by_state(run.id)
    return convert.respond(convert.flow_run_detail(run, counts))


@router.get(
    "/flow_runs/{flow_run_id}/subflows",
    response_model=models.FlowRunPage,
    responses=responses(400, 404),
)
def list_subflow_runs(
    flow_run_id: str,
    sort: Sort = Query("oldest", description="oldest (the default: call order) or newest first."),
    limit: int = Query(50, ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE}."),
    cursor: str | None = Depends(cursor_param),
    store: RunStore = Depends(get_store),
) -> Response:
    """List the subflow runs a flow run called directly, in the order they started.

    Paged like ``GET /api/flow_runs``. A subflow's own subflows are listed under it.
    """
    run = read_flow_run(store, flow_run_id)
    f = FlowRunFilter(parent_flow_run_id=run.id)
    return convert.respond(flow_run_page(store, f, limit=limit, cursor=cursor, sort=sort))
