"""The queries of the tracking tables: run search, and runs' data from rows."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cadenza.store import dialects
from cadenza.store.schema import (
    flow_runs,
    latest_metrics,
    metric_points,
    run_datasets,
    run_params,
    run_tags,
    task_runs,
    tracked_runs,
)

if TYPE_CHECKING:
    from cadenza.tracking.entities import Dataset, Metric, RunData, RunInfo
    from cadenza.tracking.search import Comparison, OrderBy

CHUNK = 500


def experiment_id_for(name: str) -> str:
    """The id of the experiment called ``name``: the same in every process and database."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "cadenza:experiment:" + name))


def chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = list(values)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


# -- runs: tracked_runs with their flow run or task run ---------------------------------
_fr = flow_runs.alias("fr")
_tr = task_runs.alias("tr")
_t = tracked_runs
RUN_FROM = _t.outerjoin(_fr, _fr.c.id == _t.c.run_id).outerjoin(_tr, _tr.c.id == _t.c.run_id)
ATTRIBUTES: dict[str, Any] = {
    "run_id": _t.c.run_id,
    "kind": _t.c.kind,
    "flow_run_id": _t.c.flow_run_id,
    "created": _t.c.created,
    "run_name": sa.func.coalesce(_fr.c.name, _tr.c.name),
    "status": sa.func.coalesce(_fr.c.state_type, _tr.c.state_type),
    "start_time": sa.func.coalesce(_fr.c.start_time, _tr.c.start_time),
    "end_time": sa.func.coalesce(_fr.c.end_time, _tr.c.end_time),
}
INFO_COLUMNS = (
    _t.c.run_id,
    ATTRIBUTES["run_name"].label("run_name"),
    _t.c.kind,
    ATTRIBUTES["status"].label("status"),
    _t.c.experiment_id,
    _t.c.flow_run_id,
    ATTRIBUTES["start_time"].label("start_time"),
    ATTRIBUTES["end_time"].label("end_time"),
    _t.c.created,
)


def info_from_row(r: Any) -> RunInfo:
    """The :class:`RunInfo` of a row of :data:`INFO_COLUMNS` (read by position)."""
    return infos_from_rows([r])[0]


def infos_from_rows(rows: Iterable[Any]) -> list[RunInfo]:
    """The :class:`RunInfo` of each row of :data:`INFO_COLUMNS`, in order."""
    from cadenza.tracking.entities import RunInfo

    return [
        RunInfo(run_id, name or "", kind, status, experiment_id, flow_run_id, start, end, created)
        for run_id, name, kind, status, experiment_id, flow_run_id, start, end, created in rows
    ]


def _compare(column: Any, op: str, value: Any, dialect: str) -> Any:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return dialects.like(column, value, dialect, case_sensitive=True)
    if op == "ILIKE":
        return dialects.like(column, value, dialect, case_sensitive=False)
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    raise AssertionError(f"unknown operator {op!r}")


def _has(table: sa.Table, *conditions: Any) -> Any:
    """Whether the run of ``tracked_runs`` has a row of ``table`` meeting ``conditions``."""
    return sa.select(table.c.run_id).where(table.c.run_id == _t.c.run_id, *conditions).exists()


def condition(c: Comparison, dialect: str) -> Any:
    """The SQL condition of one comparison of a filter, on ``tracked_runs``."""
    if c.entity == "attributes":
        return _compare(ATTRIBUTES[c.key], c.op, c.value, dialect)
    if c.entity == "datasets":
        return _has(run_datasets, _compare(run_datasets.c[c.key], c.op, c.value, dialect))
    table = {"metrics": latest_metrics, "params": run_params, "tags": run_tags}[c.entity]
    return _has(table, table.c.key == c.key, _compare(table.c.value, c.op, c.value, dialect))


def order_column(o: OrderBy) -> Any:
    """What to sort on for one ``order_by`` clause."""
    if o.entity == "attributes":
        column = ATTRIBUTES[o.key]
    else:
        table = {"metrics": latest_metrics, "params": run_params, "tags": run_tags}[o.entity]
        column = (
            sa.select(table.c.value)
            .where(table.c.run_id == _t.c.run_id, table.c.key == o.key)
            .scalar_subquery()
        )
    ordered = column.asc() if o.ascending else column.desc()
    return ordered.nulls_last()


def search_query(
    experiment_ids: Sequence[str],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderBy],
    dialect: str,
    *,
    offset: int,
    limit: int,
) -> sa.Select[Any]:
    """The info columns of one page of the runs of ``experiment_ids`` matching every
    comparison, sorted by ``order`` then newest first."""
    query = (
        sa.select(*INFO_COLUMNS)
        .select_from(RUN_FROM)
        .where(_t.c.experiment_id.in_(list(experiment_ids)))
    )
    for c in comparisons:
        query = query.where(condition(c, dialect))
    return (
        query.order_by(*(order_column(o) for o in order), _t.c.run_id.desc())
        .offset(offset)
        .limit(limit)
    )


# -- reading what runs logged ------------------------------------------------------------
def metric_value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan or value is None else float(value)


def run_data(conn: sa.Connection, run_ids: Sequence[str]) -> dict[str, RunData]:
    """The params, latest metrics and tags of each run (runs with none are left out)."""
    from cadenza.tracking.entities import RunData

    params: dict[str, dict[str, str]] = {}
    metrics: dict[str, dict[str, float]] = {}
    tags: dict[str, dict[str, str]] = {}
    lm = latest_metrics
    for part in chunks(run_ids):
        for rid, key, value in conn.execute(
            sa.select(run_params.c.run_id, run_params.c.key, run_params.c.value)
            .where(run_params.c.run_id.in_(part))
            .order_by(run_params.c.run_id, run_params.c.key)
        ).all():
            found = params.get(rid)
            if found is None:
                found = params[rid] = {}
            found[key] = value
        for rid, key, number, is_nan in conn.execute(
            sa.select(lm.c.run_id, lm.c.key, lm.c.value, lm.c.is_nan)
            .where(lm.c.run_id.in_(part))
            .order_by(lm.c.run_id, lm.c.key)
        ).all():
            numbers = metrics.get(rid)
            if numbers is None:
                numbers = metrics[rid] = {}
            numbers[key] = math.nan if is_nan or number is None else number
        for rid, key, value in conn.execute(
            sa.select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value)
            .where(run_tags.c.run_id.in_(part))
            .order_by(run_tags.c.run_id, run_tags.c.key)
        ).all():
            tags.setdefault(rid, {})[key] = value
    out = {}
    for rid in run_ids:
        if rid in params or rid in metrics or rid in tags:
            out[rid] = RunData(params.get(rid, {}), metrics.get(rid, {}), tags.get(rid, {}))
    return out


def metric_history(conn: sa.Connection, run_id: str, key: str) -> list[Metric]:
    from cadenza.tracking.entities import Metric

    mp = metric_points
    query = (
        sa.select(mp.c.value, mp.c.is_nan, mp.c.timestamp, mp.c.step)
        .where(mp.c.run_id == run_id, mp.c.key == key)
        .order_by(mp.c.step, mp.c.timestamp)
    )
    return [
        Metric(key, metric_value(value, is_nan), timestamp, step)
        for value, is_nan, timestamp, step in conn.execute(query)
    ]


def datasets(conn: sa.Connection, run_id: str) -> list[Dataset]:
    from cadenza.tracking.entities import Dataset

    ds = run_datasets
    query = (
        sa.select(ds).where(ds.c.run_id == run_id).order_by(ds.c.timestamp, ds.c.name, ds.c.context)
    )
    return [
        Dataset(
            name=r.name,
            digest=r.digest,
            source=r.source,
            context=r.context or None,
            schema=json.loads(r.schema) if r.schema else None,
            num_rows=r.num_rows,
            timestamp=r.timestamp,
            profile=json.loads(r.profile) if r.profile else None,
        )
        for r in conn.execute(query)
    ]
