"""``/runs``: flow runs, filtered by flow, state, tag and time, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cadenza.runs import FlowRun
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.filters import SPANS, STATE_NAMES, BadFilter, RunsQuery
from cadenza.server.ui.templating import render
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter, RunStore

router = APIRouter()

PAGE_SIZE = 50


def page_of_runs(
    store: RunStore, run_filter: FlowRunFilter, query: RunsQuery
) -> tuple[list[FlowRun], bool, bool]:
    """The runs of the page, newest first, and whether older and newer pages exist."""
    if query.after:
        runs = store.list_flow_runs(
            run_filter, limit=PAGE_SIZE + 1, after_id=query.after, oldest_first=True
        )
        newer = len(runs) > PAGE_SIZE
        runs = runs[:PAGE_SIZE][::-1]
        if runs:
            return runs, True, newer
        # Nothing is newer than the cursor (any more): the newest page.
    runs = store.list_flow_runs(run_filter, limit=PAGE_SIZE + 1, before_id=query.before or None)
    return runs[:PAGE_SIZE], len(runs) > PAGE_SIZE, bool(query.before)


@router.get("/runs", include_in_schema=False)
def runs_page(
    request: Request,
    flow: str | None = None,
    state: list[str] | None = Query(None),
    tag: str | None = None,
    span: str | None = None,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    top: str | None = None,
    before: str | None = None,
    after: str | None = None,
    store: RunStore = Depends(get_store),
) -> Response:
    query = RunsQuery.from_params(
        flow=flow,
        state=state,
        tag=tag,
        span=span,
        start=start,
        end=end,
        top=top,
        before=before,
        after=after,
    )
    error = None
    runs: list[FlowRun] = []
    older = newer = False
    try:
        run_filter = query.to_filter()
    except BadFilter as exc:
        error = str(exc)
    else:
        runs, older, newer = page_of_runs(store, run_filter, query)
    return render(
        request,
        "runs.html",
        {
            "section": "runs",
            "query": query,
            "runs": runs,
            "error": error,
            "flows": store.list_flow_names(),
            "state_types": [t.value for t in StateType],
            "state_names": STATE_NAMES,
            "spans": list(SPANS),
            "older_url": query.url(before=runs[-1].id) if older and runs else None,
            "newer_url": query.url(after=runs[0].id) if newer and runs else None,
        },
        status_code=400 if error else 200,
    )
