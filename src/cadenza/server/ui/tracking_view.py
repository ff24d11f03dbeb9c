"""What the tracking pages show, computed from the store: the columns of a runs table,
sort links, the cells of a comparison, and the data of the charts.

Templates draw the tables; ``static/tracking.js`` draws the charts on canvases from
the JSON computed here (embedded in the page as ``application/json`` scripts, which
the browser never runs).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from cadenza.store.tracking_base import ExperimentKeys, TrackingStore
from cadenza.tracking.entities import Run

MAX_DEFAULT_COLUMNS = 8
"""Param and metric columns shown each when the URL chooses none."""
MAX_POINTS = 2000
"""Points drawn per run in a history chart; longer histories are thinned evenly."""
MAX_COMPARED = 20
DEFAULT_PAGE_SIZE = 100
"""Runs on a page of an experiment, unless its URL says otherwise (``size=``)."""

_PLAIN_KEY = re.compile(r"[A-Za-z_][\w\-/.]*")


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    """A param, metric or tag column of a runs table."""

    entity: str
    """``params``, ``metrics`` or ``tags``."""
    key: str

    @property
    def name(self) -> str:
        """``metrics.rmse``, as in filters and ``order_by`` (quoted when it needs to be)."""
        return f"{self.entity}.{quote_key(self.key)}"

    def value(self, run: Run) -> Any:
        data = run.data
        source: dict[str, Any] = getattr(data, self.entity)
        return source.get(self.key)


def quote_key(key: str) -> str:
    """``key`` as the search grammar reads it: backticks around anything unusual."""
    return key if _PLAIN_KEY.fullmatch(key) else f"`{key}`"


def parse_columns(text: str | None, keys: ExperimentKeys) -> list[Column]:
    """The columns of ``columns=params.a,metrics.b``; without it, the first params and
    metrics of the experiment. Unknown entities are left out."""
    if text is None:
        return [Column("params", k) for k in keys.params[:MAX_DEFAULT_COLUMNS]] + [
            Column("metrics", k) for k in keys.metrics[:MAX_DEFAULT_COLUMNS]
        ]
    out: list[Column] = []
    for part in text.split(","):
        entity, _, key = part.strip().partition(".")
        key = key.strip("`")
        if entity in ("params", "metrics", "tags") and key and Column(entity, key) not in out:
            out.append(Column(entity, key))
    return out


@dataclasses.dataclass(slots=True)
class ExperimentQuery:
    """The state of an experiment page, all of it in its URL."""

    experiment_id: str
    filter: str = ""
    order: str = ""
    columns: str | None = None
    page: str = ""
    x: str = ""
    y: str = ""
    size: int = DEFAULT_PAGE_SIZE

    def url(self, **changes: Any) -> str:
        values = dataclasses.asdict(self) | changes
        if values["size"] == DEFAULT_PAGE_SIZE:
            values["size"] = None
        params = [
            (name, values[name])
            for name in ("filter", "order", "columns", "page", "x", "y", "size")
            if values[name] not in (None, "")
        ]
        base = f"/experiments/{self.experiment_id}"
        return base + ("?" + urlencode(params) if params else "")

    def sort_url(self, name: str) -> str:
        """The URL sorting by column ``name``: ascending, then descending, then unsorted."""
        if self.order == f"{name} ASC":
            order = f"{name} DESC"
        elif self.order == f"{name} DESC":
            order = ""
        else:
            order = f"{name} ASC"
        return self.url(order=order, page="")

    def sorted_by(self, name: str) -> str | None:
        """``ascending``/``descending`` when the page is sorted by column ``name``."""
        if self.order == f"{name} ASC":
            return "ascending"
        if self.order == f"{name} DESC":
            return "descending"
        return None


# -- comparison --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class CompareRow:
    entity: str
    key: str
    values: list[Any]
    differs: bool


def compare_rows(runs: Sequence[Run]) -> list[CompareRow]:
    """One row per param, metric and tag of any of ``runs``, with each run's value and
    whether they differ (a missing value differs from any value)."""
    rows: list[CompareRow] = []
    for entity in ("params", "metrics", "tags"):
        keys = sorted({k for r in runs for k in getattr(r.data, entity)})
        for key in keys:
            values = [getattr(r.data, entity).get(key) for r in runs]
            rows.append(CompareRow(entity, key, values, _differ(values)))
    return rows


def _differ(values: Sequence[Any]) -> bool:
    first = values[0]
    for v in values[1:]:
        if (
            isinstance(v, float)
            and isinstance(first, float)
            and math.isnan(v)
            and math.isnan(first)
        ):
            continue
        if v != first:
            return True
    return False


# -- charts --------------------------------------------------------------------------------
def _number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def thin(points: Sequence[Any], limit: int = MAX_POINTS) -> list[Any]:
    """At most ``limit`` of ``points``, evenly spread, the first and last kept."""
    n = len(points)
    if n <= limit:
        return list(points)
    step = (n - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def history_series(
    store: TrackingStore, runs: Sequence[tuple[str, str]], key: str
) -> list[dict[str, Any]]:
    """The history of metric ``key`` of each run (id, label), for the line chart."""
    out = []
    for run_id, label in runs:
        points = store.get_metric_history(run_id, key)
        shown = thin(points)
        out.append(
            {
                "run_id": run_id,
                "label": label,
                "count": len(points),
                "points": [[p.step, _number(p.value), p.timestamp] for p in shown],
            }
        )
    return out


def scatter_points(runs: Sequence[Run], x: Column, y: Column) -> dict[str, Any]:
    """The runs as points of ``y`` against ``x``: numbers when every value is one,
    categories otherwise."""
    raw = [(r, x.value(r), y.value(r)) for r in runs]
    raw = [(r, a, b) for r, a, b in raw if a is not None and b is not None]
    numeric_x = all(_as_float(a) is not None for _, a, _ in raw)
    points = []
    for run, a, b in raw:
        yv = _as_float(b)
        if yv is None or not math.isfinite(yv):
            continue
        xv: Any = _as_float(a) if numeric_x else str(a)
        if numeric_x and not math.isfinite(xv):
            continue
        points.append({"run_id": run.info.run_id, "label": run.info.run_name, "x": xv, "y": yv})
    return {"x": x.name, "y": y.name, "numeric_x": numeric_x, "points": points}


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
