"""The queries of the tracking tables: run search, and runs' data from rows."""

from __future__ import annotations

import functools
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

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
_t = tracked_runs


class RunColumns(NamedTuple):
    """``tracked_runs`` joined to the flow run or task run of each row, and what is read
    from the join: the attributes filters and sorts name, and the info columns."""

    from_: Any
    attributes: dict[str, Any]
    info: tuple[Any, ...]


@functools.cache
def run_columns() -> RunColumns:
    """The join and its columns, built when first queried (recording runs needs none)."""
    fr = flow_runs.alias("fr")
    tr = task_runs.alias("tr")
    attributes: dict[str, Any] = {
        "run_id": _t.c.run_id,
        "kind": _t.c.kind,
        "flow_run_id": _t.c.flow_run_id,
        "created": _t.c.created,
        "run_name": sa.func.coalesce(fr.c.name, tr.c.name),
        "status": sa.func.coalesce(fr.c.state_type, tr.c.state_type),
        "start_time": sa.func.coalesce(fr.c.start_time, tr.c.start_time),
        "end_time": sa.func.coalesce(fr.c.end_time, tr.c.end_time),
    }
    info = (
        _t.c.run_id,
        attributes["run_name"].label("run_name"),
        _t.c.kind,
        attributes["status"].label("status"),
        _t.c.experiment_id,
        _t.c.flow_run_id,
        attributes["start_time"].label("start_time"),
        attributes["end_time"].label("end_time"),
        _t.c.created,
    )
    join = _t.outerjoin(fr, fr.c.id == _t.c.run_id).outerjoin(tr, tr.c.id == _t.c.run_id)
    return RunColumns(join, attributes, info)


def info_from_row(r: Any) -> RunInfo:
    """The :class:`RunInfo` of a row of the info columns (read by position)."""
    return infos_from_rows([r])[0]


def infos_from_rows(rows: Iterable[Any]) -> list[RunInfo]:
    """The :class:`RunInfo` of each row of the info columns, in order."""
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
        return _compare(run_columns().attributes[c.key], c.op, c.value, dialect)
    if c.entity == "datasets":
        return _has(run_datasets, _compare(run_datasets.c[c.key], c.op, c.value, dialect))
    table = {"metrics": latest_metrics, "params": run_params, "tags": run_tags}[c.entity]
    return _has(table, table.c.key == c.key, _compare(table.c.value, c.op, c.value, dialect))


def order_column(o: OrderBy) -> Any:
    """What to sort on for one ``order_by`` clause."""
    if o.entity == "attributes":
        column = run_columns().attributes[o.key]
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
    runs = run_columns()
    query = (
        sa.select(*runs.info)
        .select_from(runs.from_)
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
