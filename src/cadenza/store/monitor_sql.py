"""The crash monitor's writes in SQL (a mixin of ``SqlStore``).

Each method is one write transaction; on PostgreSQL the runs it changes are locked
with ``FOR UPDATE SKIP LOCKED``, so two monitors at once (two servers on one
database, or workers on one SQLite file) never change the same run twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.runs import FlowRun
from cadenza.states import AwaitingRetry, Cancelled, Crashed, State, StateType
from cadenza.store import rows
from cadenza.store.deploy_base import ACTIVE_RUN_STATES
from cadenza.store.deploy_runs import _read_runs
from cadenza.store.deploy_sql import iter_chunks
from cadenza.store.monitor_base import MonitorStore
from cadenza.store.schema import deployments, flow_runs, workers

T = TypeVar("T")
_ACTIVE = sorted(t.value for t in ACTIVE_RUN_STATES)
_CRASHED = StateType.CRASHED


class MonitorSqlMixin(MonitorStore):
    """The monitor methods of :class:`~cadenza.store.sql.SqlStore`."""

    if TYPE_CHECKING:

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

        def _append_states(
            self, conn: Connection, table: sa.Table, states: dict[str, list[State]]
        ) -> None: ...

    def crash_unresponsive_flow_runs(
        self, *, heartbeat_before: float, now: float | None = None, limit: int = 1000
    ) -> list[FlowRun]:
        when = time.time() if now is None else now
        c = flow_runs.c
        silent = (
            sa.select(
                c.id,
                c.state_type,
                c.heartbeat,
                c.history,
                c.created,
                c.start_time,
                c.end_time,
                deployments.c.flow_retries,
            )
            .select_from(flow_runs.outerjoin(deployments, deployments.c.id == c.deployment_id))
            .where(
                c.worker_id.is_not(None),
                c.state_type.in_(_ACTIVE),
                c.heartbeat < heartbeat_before,
            )
            .order_by(c.heartbeat, c.id)
            .limit(max(limit, 0))
            .with_for_update(skip_locked=True, of=flow_runs)
        )

        def crash(conn: Connection) -> list[FlowRun]:
            found = conn.execute(silent).all()
            if not found:
                return []
            states: dict[str, list[State]] = {}
            retried: list[str] = []
            for run_id, state_type, heartbeat, history, created, start, end, retries in found:
                since = dt.datetime.fromtimestamp(heartbeat, dt.UTC).isoformat(timespec="seconds")
                why = (
                    f"Its worker stopped sending heartbeats: the last one was at {since} "
                    f"({when - heartbeat:.0f} s before)."
                )
                if state_type == StateType.CANCELLING.value:
                    states[run_id] = [Cancelled(message=f"Cancelled. {why}", timestamp=when)]
                    continue
                crashed = Crashed(message=why, timestamp=when)
                states[run_id] = [crashed]
                # Its retry in the same transaction: no reader sees the run ended (Crashed
                # is final) while it is about to run again.
                past = rows.load_history(history, created, start, end)
                retry = _retry([*past, crashed], retries, when)
                if retry is not None:
                    states[run_id].append(retry)
                    retried.append(run_id)
            self._append_states(conn, flow_runs, states)
            _unassign(conn, retried)
            return _read_runs(conn, list(states))

        return self._transaction(crash)

    def reschedule_crashed_flow_runs(
        self, *, crashed_since: float, now: float | None = None, limit: int = 100
    ) -> list[FlowRun]:
        when = time.time() if now is None else now
        c = flow_runs.c
        crashed = (
            sa.select(
                c.id, c.history, c.created, c.start_time, c.end_time, deployments.c.flow_retries
            )
            .select_from(flow_runs.join(deployments, deployments.c.id == c.deployment_id))
            .where(
                c.state_type == _CRASHED.value,
                c.state_timestamp >= crashed_since,
                deployments.c.flow_retries > 0,
            )
            .order_by(c.state_timestamp, c.id)
            .limit(max(limit, 0))
            .with_for_update(skip_locked=True, of=flow_runs)
        )

        def reschedule(conn: Connection) -> list[FlowRun]:
            states: dict[str, list[State]] = {}
            for run_id, history, created, start, end, retries in conn.execute(crashed):
                retry = _retry(rows.load_history(history, created, start, end), retries, when)
                if retry is not None:
                    states[run_id] = [retry]
            if not states:
                return []
            self._append_states(conn, flow_runs, states)
            _unassign(conn, list(states))
            return _read_runs(conn, list(states))

        return self._transaction(reschedule)

    def delete_stale_workers(self, *, heartbeat_before: float) -> int:
        def delete(conn: Connection) -> int:
            return int(
                conn.execute(
                    workers.delete().where(workers.c.last_heartbeat < heartbeat_before)
                ).rowcount
            )

        return self._transaction(delete)


def _retry(history: list[State], retries: int | None, now: float) -> State | None:
    """The ``AwaitingRetry`` state of a crashed run whose ``history`` holds its crashes,
    due at ``now``; None when its deployment's ``retries`` are used up (or it has none)."""
    crashes = sum(s.type is _CRASHED for s in history)
    if not retries or crashes > retries:
        return None
    message = f"Crashed; retry {crashes} of {retries}, on the next free worker."
    return AwaitingRetry(now, message=message, timestamp=now)


def _unassign(conn: Connection, run_ids: list[str]) -> None:
    """Take the runs ``run_ids`` from their worker, for a worker of their pool to claim."""
    c = flow_runs.c
    for chunk in iter_chunks(run_ids):
        conn.execute(
            flow_runs.update().where(c.id.in_(chunk)).values(worker_id=None, heartbeat=None)
        )
