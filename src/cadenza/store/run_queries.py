"""The read queries of flow runs and task runs, and runs from their rows."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa

from cadenza.runs import FlowRun, TaskRun
from cadenza.states import State, StateType, quick_state
from cadenza.store import rows
from cadenza.store.base import FlowRunFilter
from cadenza.store.schema import flow_run_tags, flow_runs, flows, logs, task_runs


def flow_id_for(name: str) -> str:
    """The id of the flow called ``name``: the same in every process and database."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "cadenza:flow:" + name))


_FR_COLS = [
    flow_runs.c.id,
    flow_runs.c.name,
    flows.c.name.label("flow_name"),
    flow_runs.c.parameters,
    flow_runs.c.tags,
    flow_runs.c.parent_flow_run_id,
    flow_runs.c.parent_task_run_id,
    flow_runs.c.created,
    flow_runs.c.version,
    flow_runs.c.hostname,
    flow_runs.c.pid,
    flow_runs.c.entrypoint,
    flow_runs.c.deployment_id,
    flow_runs.c.work_pool_name,
    flow_runs.c.work_queue_name,
    flow_runs.c.expected_start_time,
    flow_runs.c.idempotency_key,
    flow_runs.c.worker_id,
    flow_runs.c.heartbeat,
    flow_runs.c.state_type,
    flow_runs.c.state_name,
    flow_runs.c.state_message,
    flow_runs.c.state_timestamp,
    flow_runs.c.run_count,
    flow_runs.c.start_time,
    flow_runs.c.end_time,
]
_TR_COLS = [task_runs.c[name] for name in rows.TASK_RUN_COLUMNS if name != "history"]
"""The columns of a task run, in the order :func:`task_run_from_row` unpacks them."""


def flow_run_select(with_history: bool) -> sa.Select[Any]:
    """Every column a :class:`FlowRun` needs (the history only ``with_history``)."""
    cols = [*_FR_COLS, flow_runs.c.history] if with_history else _FR_COLS
    return sa.select(*cols).select_from(flow_runs.join(flows))


def task_run_select(with_history: bool) -> sa.Select[Any]:
    """Every column a :class:`TaskRun` needs (the history only ``with_history``)."""
    cols = [*_TR_COLS, task_runs.c.history] if with_history else _TR_COLS
    return sa.select(*cols)


_STATE_TYPES = {t.value: t for t in StateType}
_loads = json.loads


def _state(state_type: str | None, name: str, message: str | None, ts: float) -> State | None:
    if state_type is None:
        return None
    state = quick_state(_STATE_TYPES[state_type], name, ts)
    state.message = message
    return state


def _history(
    text: str | None, created: float, start_time: float | None, end_time: float | None
) -> list[State]:
    return rows.load_history(text, created, start_time, end_time)


def flow_run_from_row(r: Any, with_history: bool) -> FlowRun:
    """The flow run of a row of :func:`flow_run_select` (unpacked by position: listing
    many runs is faster so)."""
    (
        id_,
        name,
        flow_name,
        parameters,
        tags,
        parent_flow_run_id,
        parent_task_run_id,
        created,
        version,
        hostname,
        pid,
        entrypoint,
        deployment_id,
        work_pool_name,
        work_queue_name,
        expected_start_time,
        idempotency_key,
        worker_id,
        heartbeat,
        state_type,
        state_name,
        state_message,
        state_timestamp,
        run_count,
        start_time,
        end_time,
        *rest,
    ) = r
    history = _history(rest[0], created, start_time, end_time) if with_history else None
    return FlowRun(
        id=id_,
        name=name,
        flow_name=flow_name,
        parameters=_loads(parameters) if parameters != "{}" else {},
        tags=_loads(tags) if tags != "[]" else [],
        parent_flow_run_id=parent_flow_run_id,
        parent_task_run_id=parent_task_run_id,
        created=created,
        version=version,
        hostname=hostname,
        pid=pid,
        entrypoint=entrypoint,
        deployment_id=deployment_id,
        work_pool_name=work_pool_name,
        work_queue_name=work_queue_name,
        expected_start_time=expected_start_time,
        idempotency_key=idempotency_key,
        worker_id=worker_id,
        heartbeat=heartbeat,
        state=history[-1]
        if history
        else _state(state_type, state_name, state_message, state_timestamp),
        run_count=run_count,
        start_time=start_time,
        end_time=end_time,
        history=history,
    )


def task_run_from_row(r: Any, with_history: bool) -> TaskRun:
    """The task run of a row of :func:`task_run_select` (unpacked by position)."""
    (
        id_,
        flow_run_id,
        name,
        task_key,
        dynamic_key,
        kind,
        subflow_run_id,
        parent_task_run_id,
        created,
        version,
        tags,
        inputs,
        state_type,
        state_name,
        state_message,
        state_timestamp,
        run_count,
        start_time,
        end_time,
        *rest,
    ) = r
    history = _history(rest[0], created, start_time, end_time) if with_history else None
    return TaskRun(
        id=id_,
        name=name,
        task_key=task_key,
        flow_run_id=flow_run_id,
        dynamic_key=dynamic_key,
        created=created,
        tags=_loads(tags) if tags != "[]" else [],
        parent_task_run_id=parent_task_run_id,
        kind=kind,
        subflow_run_id=subflow_run_id,
        version=version,
        inputs=_loads(inputs) if inputs else None,
        state=history[-1]
        if history
        else _state(state_type, state_name, state_message, state_timestamp),
        run_count=run_count,
        start_time=start_time,
        end_time=end_time,
        history=history,
    )


def _state_alternatives(f: FlowRunFilter | None) -> list[Any]:
    """One condition per state type and state name of the filter: a run must match one."""
    if f is None:
        return []
    out = [flow_runs.c.state_type == StateType(s).value for s in dict.fromkeys(f.state_types or ())]
    out += [flow_runs.c.state_name == n for n in dict.fromkeys(f.state_names or ())]
    return out


def apply_filter(query: Any, f: FlowRunFilter | None, *, states: bool = True) -> Any:
    """``query`` restricted to the flow runs matching ``f``, with conditions on the
    ``flow_runs`` table only (so that no join is needed); ``states=False`` leaves
    out the state condition."""
    if f is None:
        return query
    if f.flow_name is not None:
        query = query.where(flow_runs.c.flow_id == flow_id_for(f.flow_name))
    by_state = _state_alternatives(f) if states else []
    if by_state:
        query = query.where(sa.or_(*by_state))
    if f.since is not None:
        query = query.where(flow_runs.c.created >= f.since)
    if f.until is not None:
        query = query.where(flow_runs.c.created < f.until)
    if f.parent_flow_run_id is not None:
        query = query.where(flow_runs.c.parent_flow_run_id == f.parent_flow_run_id)
    if f.top_level_only:
        query = query.where(flow_runs.c.parent_flow_run_id.is_(None))
    if f.ids is not None:
        query = query.where(flow_runs.c.id.in_(list(f.ids)))
    if f.id_prefix:
        p = f.id_prefix.lower()
        query = query.where(flow_runs.c.id >= p, flow_runs.c.id < p[:-1] + chr(ord(p[-1]) + 1))
    for tag in dict.fromkeys(f.tags or ()):
        tagged = sa.select(flow_run_tags.c.flow_run_id).where(flow_run_tags.c.tag == tag)
        query = query.where(flow_runs.c.id.in_(tagged))
    return query


def flow_run_ids(
    f: FlowRunFilter | None,
    *,
    limit: int,
    before_id: str | None,
    after_id: str | None,
    oldest_first: bool,
) -> sa.Select[Any]:
    """The ids of one page of :meth:`RunStore.list_flow_runs`, in order.

    Only ids are selected, from ``flow_runs`` alone, so that an index holding the
    filtered column and the id answers without reading the rows. Several state types
    or names become one branch each, every branch walking its index in id order and
    stopping after ``limit`` ids, merged by a UNION: cheaper than one condition that
    matches many runs, which would have to sort them all.
    """
    base = apply_filter(sa.select(flow_runs.c.id), f, states=False)
    if before_id is not None:
        base = base.where(flow_runs.c.id < before_id)
    if after_id is not None:
        base = base.where(flow_runs.c.id > after_id)
    order = flow_runs.c.id.asc() if oldest_first else flow_runs.c.id.desc()
    alternatives = _state_alternatives(f)
    if len(alternatives) <= 1:
        return base.where(*alternatives).order_by(order).limit(limit)
    branches = [
        sa.select(b.c.id)
        for b in (base.where(a).order_by(order).limit(limit).subquery() for a in alternatives)
    ]
    merged = sa.union(*branches).subquery()
    merged_order = merged.c.id.asc() if oldest_first else merged.c.id.desc()
    return sa.select(merged.c.id).order_by(merged_order).limit(limit)


def count_matching(f: FlowRunFilter | None) -> sa.Select[Any]:
    """The number of flow runs matching ``f``.

    Runs in one of the state types, plus runs with one of the state names and none of
    the types: each part counted from its index, and no run counted twice.
    """
    query = apply_filter(sa.select(sa.func.count()).select_from(flow_runs), f, states=False)
    if f is None or not (f.state_types and f.state_names):
        return apply_filter(query, f)
    types = [StateType(t).value for t in dict.fromkeys(f.state_types)]
    names = list(dict.fromkeys(f.state_names))
    by_type = query.where(flow_runs.c.state_type.in_(types)).scalar_subquery()
    by_name_only = query.where(
        flow_runs.c.state_name.in_(names), flow_runs.c.state_type.not_in(types)
    ).scalar_subquery()
    return sa.select(by_type + by_name_only)


_MAX_BRANCHES = 100


def log_query(
    run_ids: list[str],
    *,
    task_run_id: str | None,
    after_id: int | None,
    min_level: int,
    limit: int | None,
) -> sa.Select[Any]:
    """The log lines of :meth:`RunStore.read_logs` for the flow runs ``run_ids``.

    With a limit and several runs (a run and its subflows), the ids of each run's
    first lines come from its own range of the ``(flow_run_id, id)`` index, merged
    by a UNION, so that the lines of all the runs are not sorted to keep a few.
    """
    conditions = []
    if task_run_id is not None:
        conditions.append(logs.c.task_run_id == task_run_id)
    if after_id is not None:
        conditions.append(logs.c.id > after_id)
    if min_level:
        conditions.append(logs.c.level >= min_level)
    if limit is not None and 1 < len(run_ids) <= _MAX_BRANCHES:
        branches = [
            sa.select(b.c.id)
            for b in (
                sa.select(logs.c.id)
                .where(logs.c.flow_run_id == r, *conditions)
                .order_by(logs.c.id)
                .limit(limit)
                .subquery()
                for r in run_ids
            )
        ]
        merged = sa.union_all(*branches).subquery()
        first = sa.select(merged.c.id).order_by(merged.c.id).limit(limit)
        return sa.select(logs).where(logs.c.id.in_(first)).order_by(logs.c.id)
    query = sa.select(logs).where(logs.c.flow_run_id.in_(run_ids), *conditions)
    query = query.order_by(logs.c.id)
    return query if limit is None else query.limit(limit)
