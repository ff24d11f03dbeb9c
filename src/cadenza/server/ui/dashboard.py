"""``/``: flow runs by state over time, recent failures, and what is running now."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cadenza.server.ui.chart import DEFAULT_RANGE, RANGES, STACK_ORDER, stacked_bars
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.filters import time_input
from cadenza.server.ui.templating import render
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter, RunStore

router = APIRouter()

FAILURES_SHOWN = 10
RUNNING_SHOWN = 20
ACTIVE = (StateType.RUNNING, StateType.PENDING, StateType.CANCELLING, StateType.PAUSED)


@router.get("/", include_in_schema=False)
def dashboard(
    request: Request,
    range: str = DEFAULT_RANGE,
    flow: str | None = None,
    store: RunStore = Depends(get_store),
) -> Response:
    time_range = RANGES.get(range) or RANGES[DEFAULT_RANGE]
    now = time.time()
    since = now - time_range.seconds
    flow_name = flow or None
    in_range = FlowRunFilter(flow_name=flow_name, since=since)
    chart = stacked_bars(
        store.count_flow_runs_by_state(in_range, bucket_seconds=time_range.bucket_seconds),
        now=now,
        time_range=time_range,
    )
    failures = store.list_flow_runs(
        FlowRunFilter(
            flow_name=flow_name,
            state_types=[StateType.FAILED, StateType.CRASHED],
            since=since,
        ),
        limit=FAILURES_SHOWN,
    )
    running = store.list_flow_runs(
        FlowRunFilter(flow_name=flow_name, state_types=ACTIVE), limit=RUNNING_SHOWN + 1
    )
    return render(
        request,
        "dashboard.html",
        {
            "section": "dashboard",
            "chart": chart,
            "stack_order": STACK_ORDER,
            "ranges": RANGES.values(),
            "range": time_range,
            "flow": flow_name or "",
            "flows": store.list_flow_names(),
            "failures": failures,
            "running": running[:RUNNING_SHOWN],
            "more_running": len(running) > RUNNING_SHOWN,
            "time_input": time_input,
            "now": now,
        },
    )
