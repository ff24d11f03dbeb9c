"""``GET /api/flow_runs/stats``: counts of flow runs by state, for a dashboard."""

from __future__ import annotations

import math
import time

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.server.api import convert, models
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import invalid, responses
from cadenza.server.api.params import flow_run_filter, parse_span
from cadenza.store.base import FlowRunFilter, RunStore

router = APIRouter(tags=["flow runs"])

MAX_BUCKETS = 1000
DEFAULT_PERIOD = 86400.0


@router.get("/flow_runs/stats", response_model=models.FlowRunStats, responses=responses(400))
def flow_run_stats(
    f: FlowRunFilter = Depends(flow_run_filter),
    bucket: str = Query(
        "1h", description="Width of a time bucket: seconds (3600) or 90s, 30m, 1h, 1d, 1w."
    ),
    store: RunStore = Depends(get_store),
) -> Response:
    """Count flow runs by the state type they are in now, in all and per time bucket.

    Runs are counted in the bucket of their creation time, over the period from
    ``since`` (by default 24 hours before ``until``) to ``until`` (by default now).
    Buckets start at multiples of their width since the epoch; every bucket of the
    period is listed, oldest first, empty ones too (at most 1000 buckets). The other
    filters are those of ``GET /api/flow_runs``. Runs without a state are not counted.
    """
    width = parse_span("bucket", bucket)
    until = f.until if f.until is not None else time.time()
    since = f.since if f.since is not None else until - DEFAULT_PERIOD
    if since >= until:
        raise invalid("since", "must be earlier than 'until' (by default: now).")
    first = math.floor(since / width) * width
    n_buckets = math.ceil((until - first) / width)
    if n_buckets > MAX_BUCKETS:
        raise invalid(
            "bucket",
            f"{bucket!r} cuts the period into {n_buckets} buckets, more than {MAX_BUCKETS}: "
            "give a wider bucket or a shorter period.",
        )
    f.since, f.until = since, until
    starts = [first + i * width for i in range(n_buckets)]
    by_bucket: dict[int, dict[str, int]] = {i: {} for i in range(n_buckets)}
    totals: dict[str, int] = {}
    for start, state_type, n in store.count_flow_runs_by_state(f, bucket_seconds=width):
        index = round(((start or 0.0) - first) / width)
        counts = by_bucket.get(index)
        if counts is None:
            continue
        counts[state_type.value] = counts.get(state_type.value, 0) + n
        totals[state_type.value] = totals.get(state_type.value, 0) + n
    stats = models.FlowRunStats(
        since=convert.iso(since) or "",
        since_epoch=since,
        until=convert.iso(until) or "",
        until_epoch=until,
        bucket_seconds=width,
        totals=totals,
        total=sum(totals.values()),
        buckets=[
            models.StatsBucket(
                start=convert.iso(start) or "",
                start_epoch=start,
                counts=by_bucket[i],
                total=sum(by_bucket[i].values()),
            )
            for i, start in enumerate(starts)
        ],
    )
    return convert.respond(stats)
