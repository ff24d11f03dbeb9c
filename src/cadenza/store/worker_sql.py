"""Workers in SQL (a mixin of ``SqlStore``): heartbeats, waiting for due runs, handing
runs back.

Waiting reads the pool's soonest due time (a read, which takes no write lock) and
claims only when a run is due, so that idle workers polling a SQLite file do not
keep taking its write lock. :func:`claim_step` is that one step; the server's
long-poll endpoint awaits the same steps without holding a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.exceptions import WorkQueueNotFound
from cadenza.runs import FlowRun
from cadenza.states import Scheduled, State, StateType
from cadenza.store import rows
from cadenza.store.deploy_base import ACTIVE_RUN_STATES
from cadenza.store.deploy_sql import iter_chunks, pool_not_found
from cadenza.store.schema import flow_runs, work_pools, workers
from cadenza.store.worker_base import WorkerStore

if TYPE_CHECKING:
    from cadenza.deploy.records import WorkerRecord
    from cadenza.store.deploy_base import DeploymentStore

T = TypeVar("T")
_ACTIVE = sorted(t.value for t in ACTIVE_RUN_STATES)
_RELEASABLE = [StateType.PENDING.value, StateType.RUNNING.value, StateType.CRASHED.value]


class WorkerSqlMixin(WorkerStore):
    """The worker methods of :class:`~cadenza.store.sql.SqlStore`."""

    if TYPE_CHECKING:
        _dialect: str

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

        def _append_states(
            self, conn: Connection, table: sa.Table, states: dict[str, list[State]]
        ) -> None: ...

    def worker_heartbeat(
        self, worker: WorkerRecord, flow_run_ids: Collection[str], *, now: float | None = None
    ) -> list[str]:
        when = time.time() if now is None else now
        c = flow_runs.c
        ids = list(dict.fromkeys(flow_run_ids))

        def beat(conn: Connection) -> list[str]:
            found = conn.execute(
                sa.select(work_pools.c.name).where(work_pools.c.name == worker.pool_name)
            ).first()
            if found is None:
                raise pool_not_found(conn, worker.pool_name)
            values = {
                "name": worker.name,
                "pool_name": worker.pool_name,
                "hostname": worker.hostname,
                "pid": worker.pid,
                "last_heartbeat": when,
            }
            changed = conn.execute(
                workers.update().where(workers.c.id == worker.id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    workers.insert().values(id=worker.id, started=worker.started or when, **values)
                )
            cancelling: list[str] = []
            for chunk in iter_chunks(ids):
                mine = sa.and_(c.id.in_(chunk), c.worker_id == worker.id, c.state_type.in_(_ACTIVE))
                conn.execute(flow_runs.update().where(mine).values(heartbeat=when))
                for run_id, history, created, start, end in conn.execute(
                    sa.select(c.id, c.history, c.created, c.start_time, c.end_time).where(mine)
                ):
                    if cancel_requested(rows.load_history(history, created, start, end)):
                        cancelling.append(run_id)
            return sorted(cancelling)

        return self._transaction(beat)

    def read_worker(self, worker_id: str) -> WorkerRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(workers).where(workers.c.id == worker_id)).first()
        return None if row is None else _worker_from_row(row)

    def list_workers(self, *, pool_name: str | None = None) -> list[WorkerRecord]:
        query = sa.select(workers).order_by(
            workers.c.pool_name, workers.c.last_heartbeat.desc(), workers.c.id
        )
        if pool_name is not None:
            query = query.where(workers.c.pool_name == pool_name)
        with self._read() as conn:
            return [_worker_from_row(r) for r in conn.execute(query)]

    def delete_worker(self, worker_id: str) -> bool:
        def delete(conn: Connection) -> bool:
            return bool(conn.execute(workers.delete().where(workers.c.id == worker_id)).rowcount)

        return self._transaction(delete)

    def next_due_time(
        self, pool_name: str, *, queues: Collection[str] | None = None
    ) -> float | None:
        c = flow_runs.c
        query = sa.select(sa.func.min(c.expected_start_time)).where(
            c.work_pool_name == pool_name, c.state_type == StateType.SCHEDULED.value
        )
        if queues is not None:
            query = query.where(c.work_queue_name.in_(list(queues)))
        with self._read() as conn:
            due = conn.execute(query).scalar()
        return None if due is None else float(due)

    def claim_flow_runs_waiting(
        self,
        pool_name: str,
        worker_id: str,
        limit: int,
        *,
        wait: float,
        queues: Collection[str] | None = None,
    ) -> list[FlowRun]:
        from cadenza.settings import get_settings

        store = cast("DeploymentStore", self)
        check_claimable(store, pool_name, queues)
        poll = get_settings().worker_poll_interval
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            runs, pause = claim_step(store, pool_name, worker_id, limit, queues, poll)
            remaining = deadline - time.monotonic()
            if runs or remaining <= 0:
                return runs
            time.sleep(min(pause, remaining))

    def release_flow_run(
        self, flow_run_id: str, worker_id: str, *, message: str, now: float | None = None
    ) -> bool:
        when = time.time() if now is None else now
        c = flow_runs.c
        check = (
            sa.select(c.id)
            .where(c.id == flow_run_id, c.worker_id == worker_id, c.state_type.in_(_RELEASABLE))
            .with_for_update()
        )

        def release(conn: Connection) -> bool:
            if conn.execute(check).first() is None:
                return False
            state = Scheduled(name="Rescheduled", message=message, timestamp=when)
            self._append_states(conn, flow_runs, {flow_run_id: [state]})
            conn.execute(
                flow_runs.update().where(c.id == flow_run_id).values(worker_id=None, heartbeat=None)
            )
            return True

        return self._transaction(release)


def cancel_requested(history: list[State]) -> bool:
    """Whether a Cancelling state was recorded since the run was last Scheduled: its
    cancellation was asked for and not carried out (a state the run's process recorded
    at the same time, such as Running, may have followed it)."""
    for state in reversed(history):
        if state.type is StateType.CANCELLING:
            return True
        if state.type is StateType.SCHEDULED:
            return False
    return False


def check_claimable(store: DeploymentStore, pool_name: str, queues: Collection[str] | None) -> None:
    """Raise unless the pool exists and has the queues named.

    Raises:
        WorkPoolNotFound, WorkQueueNotFound: naming those that exist.
    """
    names = {q.name for q in store.list_work_queues(pool_name)}
    unknown = sorted(set(queues or ()) - names)
    if unknown:
        raise WorkQueueNotFound(
            f"Work pool {pool_name!r} has no queue {unknown[0]!r}. Its queues: "
            f"{', '.join(sorted(names))}."
        )


def claim_step(
    store: DeploymentStore,
    pool_name: str,
    worker_id: str,
    limit: int,
    queues: Collection[str] | None,
    poll: float,
) -> tuple[list[FlowRun], float]:
    """One look for due runs: claims them when one is due.

    Returns the runs claimed and, when there are none, how long to wait before the
    next look: until the soonest run is due, or ``poll`` seconds at most (new runs may
    be created meanwhile, or a limit may free up).
    """
    if limit <= 0:
        return [], poll
    now = time.time()
    due = store.next_due_time(pool_name, queues=queues)
    if due is None:
        return [], poll
    if due > now:
        return [], min(due - now, poll)
    claimed = store.claim_flow_runs(pool_name, worker_id, limit, now=now, queues=queues)
    return claimed, 0.0 if claimed else poll


def _worker_from_row(r: Any) -> WorkerRecord:
    from cadenza.deploy.records import WorkerRecord

    return WorkerRecord(
        id=r.id,
        name=r.name,
        pool_name=r.pool_name,
        hostname=r.hostname,
        pid=r.pid,
        started=r.started,
        last_heartbeat=r.last_heartbeat,
    )
