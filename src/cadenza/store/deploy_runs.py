"""Runs of deployments in SQL (a mixin of ``SqlStore``): creating them ahead of time,
listing them, marking them late, and claiming them for a worker.

The claim is one write transaction. On SQLite that transaction holds the database's
write lock from its first statement (``BEGIN IMMEDIATE``, see
:mod:`cadenza.store.dialects`), so claims are serialized. On PostgreSQL the pool's row
is locked first (``FOR UPDATE``), which serializes the claims of one pool, so that
the counts behind its concurrency limits are exact, and the runs taken are locked
with ``FOR UPDATE SKIP LOCKED`` against other writers (a cancel, the monitor).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.exceptions import WorkQueueNotFound
from cadenza.runs import FlowRun
from cadenza.states import Late, Pending, State, StateType
from cadenza.store import dialects, rows
from cadenza.store.deploy_base import ACTIVE_RUN_STATES, DeploymentStore, check_schedulable
from cadenza.store.deploy_sql import iter_chunks, pool_not_found, queue_rows
from cadenza.store.run_queries import flow_id_for, flow_run_from_row, flow_run_select
from cadenza.store.schema import deployments, flow_runs, work_pools

T = TypeVar("T")
_SCHEDULED = StateType.SCHEDULED.value
_ACTIVE = sorted(t.value for t in ACTIVE_RUN_STATES)


class DeploymentRunsSqlMixin(DeploymentStore):
    """The methods of :class:`~cadenza.store.sql.SqlStore` about runs of deployments."""

    if TYPE_CHECKING:
        _dialect: str
        _insert_flow: Any
        _insert_flow_run: Any
        _insert_tag: Any

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

        def _append_states(
            self, conn: Connection, table: sa.Table, states: dict[str, list[State]]
        ) -> None: ...

    def create_scheduled_flow_runs(self, runs: Sequence[FlowRun]) -> list[FlowRun]:
        check_schedulable(runs)
        if not runs:
            return []
        flows = {r.flow_name: flow_id_for(r.flow_name) for r in runs}
        now = time.time()

        def create(conn: Connection) -> list[FlowRun]:
            conn.execute(
                self._insert_flow,
                [{"id": fid, "name": name, "created": now} for name, fid in flows.items()],
            )
            new_rows = [
                rows.flow_run_row(r, flows[r.flow_name], [r.state] if r.state else []) for r in runs
            ]
            dialects.execute_rows(conn, self._insert_flow_run, rows.FLOW_RUN_COLUMNS, new_rows)
            # The runs skipped for their key are not in the table (their ids are new).
            created: set[str] = set()
            for chunk in iter_chunks([r.id for r in runs]):
                created.update(
                    conn.execute(
                        sa.select(flow_runs.c.id).where(flow_runs.c.id.in_(chunk))
                    ).scalars()
                )
            made = [r for r in runs if r.id in created]
            tags = [(t, r.id) for r in made for t in dict.fromkeys(r.tags)]
            if tags:
                dialects.execute_rows(conn, self._insert_tag, ("tag", "flow_run_id"), tags)
            return made

        return self._transaction(create)

    def list_scheduled_flow_runs(
        self,
        *,
        deployment_id: str | None = None,
        work_pool_name: str | None = None,
        before: float | None = None,
        state_names: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[FlowRun]:
        if limit <= 0:
            return []
        c = flow_runs.c
        query = flow_run_select(with_history=False).where(
            c.state_type == _SCHEDULED, c.expected_start_time.is_not(None)
        )
        if deployment_id is not None:
            query = query.where(c.deployment_id == deployment_id)
        if work_pool_name is not None:
            query = query.where(c.work_pool_name == work_pool_name)
        if before is not None:
            query = query.where(c.expected_start_time < before)
        if state_names is not None:
            query = query.where(c.state_name.in_(list(state_names)))
        query = query.order_by(c.expected_start_time, c.id).limit(limit)
        with self._read() as conn:
            return [flow_run_from_row(r, with_history=False) for r in conn.execute(query)]

    def mark_late_flow_runs(
        self, *, before: float, now: float | None = None, limit: int = 1000
    ) -> list[FlowRun]:
        when = time.time() if now is None else now
        c = flow_runs.c
        due = (
            sa.select(c.id, c.expected_start_time)
            .where(
                c.state_type == _SCHEDULED,
                c.state_name == "Scheduled",
                c.expected_start_time < before,
            )
            .order_by(c.expected_start_time, c.id)
            .limit(max(limit, 0))
            # PostgreSQL: a run a worker is claiming is left for the next pass, and a run
            # claimed meanwhile is no longer Scheduled when its row is locked; either way
            # a claimed run is never made Late (Scheduled) again. SQLite: serialized.
            .with_for_update(skip_locked=True)
        )

        def mark(conn: Connection) -> list[FlowRun]:
            found = conn.execute(due).all()
            if not found:
                return []
            states = {
                run_id: [
                    Late(
                        expected,
                        timestamp=when,
                        message=f"Not started {when - expected:.0f} s after its scheduled time.",
                    )
                ]
                for run_id, expected in found
            }
            self._append_states(conn, flow_runs, states)
            return _read_runs(conn, list(states))

        return self._transaction(mark)

    def claim_flow_runs(
        self,
        pool_name: str,
        worker_id: str,
        limit: int,
        now: float | None = None,
        queues: Collection[str] | None = None,
    ) -> list[FlowRun]:
        when = time.time() if now is None else now

        def claim(conn: Connection) -> list[FlowRun]:
            pool = conn.execute(
                sa.select(work_pools).where(work_pools.c.name == pool_name).with_for_update()
            ).first()
            if pool is None:
                raise pool_not_found(conn, pool_name)
            all_queues = queue_rows(conn, pool_name)
            if queues is not None:
                unknown = sorted(set(queues) - {q.name for q in all_queues})
                if unknown:
                    raise WorkQueueNotFound(
                        f"Work pool {pool_name!r} has no queue {unknown[0]!r}. Its queues: "
                        f"{', '.join(q.name for q in all_queues)}."
                    )
            if pool.paused or limit <= 0:
                return []
            open_queues = [
                q for q in all_queues if not q.paused and (queues is None or q.name in queues)
            ]
            if not open_queues:
                return []
            active = _active_by_queue(conn, pool_name)
            pool_free = _free(pool.concurrency_limit, sum(active.values()))
            if pool_free <= 0:
                return []
            picked = _pick(conn, pool_name, open_queues, active, min(limit, pool_free), when)
            if not picked:
                return []
            _mark_claimed(self, conn, picked, worker_id, when)
            return _read_runs(conn, picked)

        return self._transaction(claim)


def _free(limit: int | None, used: int) -> float:
    return math.inf if limit is None else limit - used


def _active_by_queue(conn: Connection, pool_name: str) -> dict[str, int]:
    c = flow_runs.c
    return {
        queue: int(n)
        for queue, n in conn.execute(
            sa.select(c.work_queue_name, sa.func.count())
            .where(c.work_pool_name == pool_name, c.state_type.in_(_ACTIVE))
            .group_by(c.work_queue_name)
        )
    }


def _pick(
    conn: Connection,
    pool_name: str,
    open_queues: list[Any],
    active: dict[str, int],
    wanted: float,
    now: float,
) -> list[str]:
    """The ids of the runs to claim, in the order taken, within every limit."""
    c = flow_runs.c
    candidates: list[tuple[str, str, str | None]] = []
    fetch = int(min(wanted, 10_000)) * 4 + 20  # room for runs held back by a limit
    for q in open_queues:
        if _free(q.concurrency_limit, active.get(q.name, 0)) <= 0:
            continue
        query = (
            sa.select(c.id, c.work_queue_name, c.deployment_id)
            .where(
                c.work_pool_name == pool_name,
                c.work_queue_name == q.name,
                c.state_type == _SCHEDULED,
                c.expected_start_time <= now,
            )
            .order_by(c.expected_start_time, c.id)
            .limit(fetch)
            .with_for_update(skip_locked=True)
        )
        candidates.extend(conn.execute(query).all())
    if not candidates:
        return []
    queue_free = {q.name: _free(q.concurrency_limit, active.get(q.name, 0)) for q in open_queues}
    deployment_free = _deployment_room(conn, {d for _, _, d in candidates if d is not None})
    picked: list[str] = []
    for run_id, queue, deployment_id in candidates:
        if len(picked) >= wanted:
            break
        if queue_free[queue] <= 0:
            continue
        if deployment_id is not None and deployment_free.get(deployment_id, math.inf) <= 0:
            continue
        picked.append(run_id)
        queue_free[queue] -= 1
        if deployment_id in deployment_free:
            deployment_free[deployment_id] -= 1
    return picked


def _deployment_room(conn: Connection, deployment_ids: set[str]) -> dict[str, float]:
    """How many more runs each limited deployment among ``deployment_ids`` may have
    active (deployments without a limit are left out)."""
    if not deployment_ids:
        return {}
    limits = dict(
        conn.execute(
            sa.select(deployments.c.id, deployments.c.concurrency_limit).where(
                deployments.c.id.in_(list(deployment_ids)),
                deployments.c.concurrency_limit.is_not(None),
            )
        ).all()
    )
    if not limits:
        return {}
    c = flow_runs.c
    used: dict[str, int] = dict(
        conn.execute(
            sa.select(c.deployment_id, sa.func.count())
            .where(c.deployment_id.in_(list(limits)), c.state_type.in_(_ACTIVE))
            .group_by(c.deployment_id)
        ).all()
    )
    return {d: float(n - used.get(d, 0)) for d, n in limits.items()}


def _mark_claimed(
    store: DeploymentRunsSqlMixin, conn: Connection, ids: list[str], worker_id: str, now: float
) -> None:
    conn.execute(
        flow_runs.update().where(flow_runs.c.id.in_(ids)).values(worker_id=worker_id, heartbeat=now)
    )
    claimed = Pending(timestamp=now, message="Claimed by a worker.", data={"worker_id": worker_id})
    store._append_states(conn, flow_runs, {run_id: [claimed] for run_id in ids})


def _read_runs(conn: Connection, ids: list[str]) -> list[FlowRun]:
    """The runs of ``ids``, in that order (without history)."""
    found: dict[str, FlowRun] = {}
    for chunk in iter_chunks(ids):
        for r in conn.execute(flow_run_select(with_history=False).where(flow_runs.c.id.in_(chunk))):
            run = flow_run_from_row(r, with_history=False)
            found[run.id] = run
    return [found[i] for i in ids if i in found]
