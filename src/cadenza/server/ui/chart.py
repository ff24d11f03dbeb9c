"""The dashboard's chart: flow runs per time bucket, stacked by state, as SVG geometry.

The template draws what :func:`stacked_bars` computes (rectangles, ticks, labels);
no chart library runs in the browser.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Iterable

from cadenza.states import StateType

STACK_ORDER: tuple[StateType, ...] = (
    StateType.COMPLETED,
    StateType.FAILED,
    StateType.CRASHED,
    StateType.CANCELLED,
    StateType.CANCELLING,
    StateType.RUNNING,
    StateType.PENDING,
    StateType.SCHEDULED,
    StateType.PAUSED,
)
"""Bottom to top."""


@dataclasses.dataclass(frozen=True, slots=True)
class TimeRange:
    key: str
    label: str
    seconds: int
    bucket_seconds: int


RANGES: dict[str, TimeRange] = {
    r.key: r
    for r in (
        TimeRange("1h", "Last hour", 3600, 60),
        TimeRange("24h", "Last 24 hours", 86400, 1800),
        TimeRange("7d", "Last 7 days", 7 * 86400, 6 * 3600),
        TimeRange("30d", "Last 30 days", 30 * 86400, 86400),
    )
}
DEFAULT_RANGE = "24h"


@dataclasses.dataclass(slots=True)
class Segment:
    state: StateType
    count: int
    y: float
    height: float


@dataclasses.dataclass(slots=True)
class Bar:
    start: float
    end: float
    x: float
    width: float
    total: int
    segments: list[Segment]
    title: str


@dataclasses.dataclass(slots=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_bottom: float
    bars: list[Bar]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    totals: dict[StateType, int]

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def bucket_starts(now: float, time_range: TimeRange) -> list[float]:
    """Starts of the buckets that cover the range, oldest first, the last one holding now."""
    step = time_range.bucket_seconds
    last = math.floor(now / step) * step
    n = max(math.ceil(time_range.seconds / step), 1)
    return [last - (n - 1 - i) * step for i in range(n)]


def _nice_step(maximum: int, ticks: int = 4) -> int:
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _label(ts: float, bucket_seconds: int) -> str:
    moment = _dt.datetime.fromtimestamp(ts, tz=_dt.UTC)
    if bucket_seconds >= 86400:
        return moment.strftime("%b %d")
    if bucket_seconds >= 6 * 3600:
        return moment.strftime("%b %d %H:%M")
    return moment.strftime("%H:%M")


def _title(start: float, end: float, counts: dict[StateType, int]) -> str:
    fmt = "%Y-%m-%d %H:%M"
    a = _dt.datetime.fromtimestamp(start, tz=_dt.UTC).strftime(fmt)
    b = _dt.datetime.fromtimestamp(end, tz=_dt.UTC).strftime(fmt)
    parts = [f"{counts[s]} {s.value.lower()}" for s in STACK_ORDER if counts.get(s)]
    return f"{a} to {b} UTC: " + (", ".join(parts) if parts else "no runs")


def stacked_bars(
    rows: Iterable[tuple[float | None, StateType, int]],
    *,
    now: float,
    time_range: TimeRange,
    width: int = 960,
    height: int = 220,
) -> Chart:
    """Geometry of the chart of ``rows`` (``(bucket_start, state_type, count)``)."""
    starts = bucket_starts(now, time_range)
    step = time_range.bucket_seconds
    counts: dict[float, dict[StateType, int]] = {s: {} for s in starts}
    totals: dict[StateType, int] = {}
    for bucket, state, count in rows:
        if bucket is None or bucket not in counts:
            continue
        counts[bucket][state] = counts[bucket].get(state, 0) + count
        totals[state] = totals.get(state, 0) + count
    left, top, bottom = 44.0, 10.0, float(height - 24)
    plot_w, plot_h = width - left - 8, bottom - top
    peak = max((sum(c.values()) for c in counts.values()), default=0)
    tick = _nice_step(peak)
    y_max = max(tick * math.ceil(peak / tick), 1) if peak else 4
    slot = plot_w / len(starts)
    gap = min(max(slot * 0.18, 1.0), 6.0)
    bars = []
    for i, start in enumerate(starts):
        c = counts[start]
        y = bottom
        segments = []
        for state in STACK_ORDER:
            n = c.get(state, 0)
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            segments.append(Segment(state, n, round(y, 2), round(h, 2)))
        bars.append(
            Bar(
                start=start,
                end=start + step,
                x=round(left + i * slot + gap / 2, 2),
                width=round(max(slot - gap, 1.0), 2),
                total=sum(c.values()),
                segments=segments,
                title=_title(start, start + step, c),
            )
        )
    y_ticks = [
        (round(bottom - plot_h * v / y_max, 2), f"{v:,}")
        for v in range(0, int(y_max) + 1, tick if peak else 1)
    ]
    every = max(math.ceil(len(starts) / 8), 1)
    x_labels = [
        (round(left + i * slot + slot / 2, 2), _label(s, step))
        for i, s in enumerate(starts)
        if i % every == 0
    ]
    return Chart(width, height, left, top, bottom, bars, y_ticks, x_labels, totals)
