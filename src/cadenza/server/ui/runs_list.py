"""``/runs``: flow runs, filtered by flow, state, tag and time, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cadenza.server.ui.deps import get_store
from cadenza.server.ui.filters import SPANS, STATE_NAMES, BadFilter, RunsQuery
from cadenza.server.ui.templating import render
from cadenza.states import StateType
from cadenza.store.base import RunStore

router = APIRouter()

PAGE_SIZE = 50


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
    back: str | None = None,
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
        back=back,
    )
    error = None
    runs = []
    try:
        run_filter = query.to_filter()
    except BadFilter as exc:
        error = str(exc)
    else:
        runs = store.list_flow_runs(run_filter, limit=PAGE_SIZE + 1, before_id=query.before or None)
    more = len(runs) > PAGE_SIZE
    runs = runs[:PAGE_SIZE]
    return render(
        request,
        "runs.html",
        {
            "section": "runs",
            "query": query,
            "runs": runs,
            "error": error,
            "flows": [f.name for f in store.list_flows()],
            "state_types": [t.value for t in StateType],
            "state_names": STATE_NAMES,
            "spans": list(SPANS),
            "older_url": query.older_url(runs[-1].id) if more and runs else None,
            "newer_url": query.newer_url(),
        },
        status_code=400 if error else 200,
    )
