"""Deployments, their schedules, work pools and queues in SQL (a mixin of ``SqlStore``).

The runs of deployments (creating them ahead, late marking, claiming) are in
:mod:`cadenza.store.deploy_runs`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.exceptions import (
    DeploymentNotFound,
    ObjectAlreadyExists,
    WorkPoolNotFound,
    WorkQueueNotFound,
)
from cadenza.states import StateType
from cadenza.store.deploy_base import AUTO_SCHEDULED_PREFIX, UNSET, DeploymentStore
from cadenza.store.rows import dumps
from cadenza.store.schema import (
    deployment_schedules,
    deployments,
    flow_runs,
    work_pools,
    work_queues,
)
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment, DeploymentSchedule
    from cadenza.deploy.pools import WorkPool, WorkQueue

T = TypeVar("T")
_LISTED = 20
"""Names listed at most in a not-found message."""


class DeploymentSqlMixin(DeploymentStore):
    """The deployment and pool methods of :class:`~cadenza.store.sql.SqlStore`."""

    if TYPE_CHECKING:
        _dialect: str

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

    # -- deployments ---------------------------------------------------------------------
    def save_deployment(self, deployment: Deployment, *, now: float | None = None) -> Deployment:
        from cadenza.deploy.deployments import check_deployment

        check_deployment(deployment)
        when = time.time() if now is None else now

        def save(conn: Connection) -> Deployment:
            d = deployment
            require_queue(conn, d.work_pool_name, d.work_queue_name)
            found = conn.execute(
                sa.select(deployments.c.id, deployments.c.created, deployments.c.paused).where(
                    deployments.c.flow_name == d.flow_name, deployments.c.name == d.name
                )
            ).first()
            values = _deployment_values(d, when)
            if found is None:
                deployment_id = d.id or uuid7()
                conn.execute(deployments.insert().values(id=deployment_id, created=when, **values))
                changed = True
            else:
                deployment_id = found.id
                conn.execute(
                    deployments.update().where(deployments.c.id == deployment_id).values(**values)
                )
                changed = _replace_needed(conn, deployment_id, d.schedules)
                if d.paused and not found.paused:
                    delete_future_runs(conn, deployment_id, when)
            if changed:
                if found is not None:
                    delete_future_runs(conn, deployment_id, when)
                conn.execute(
                    deployment_schedules.delete().where(
                        deployment_schedules.c.deployment_id == deployment_id
                    )
                )
                if d.schedules:
                    conn.execute(
                        deployment_schedules.insert(),
                        [_schedule_values(deployment_id, i, s) for i, s in enumerate(d.schedules)],
                    )
            saved = _read_deployments(conn, deployments.c.id == deployment_id)
            return saved[0]

        return self._transaction(save)

    def read_deployment(self, deployment_id: str) -> Deployment | None:
        with self._read() as conn:
            found = _read_deployments(conn, deployments.c.id == deployment_id)
        return found[0] if found else None

    def read_deployment_by_name(self, flow_name: str, name: str) -> Deployment | None:
        condition = sa.and_(deployments.c.flow_name == flow_name, deployments.c.name == name)
        with self._read() as conn:
            found = _read_deployments(conn, condition)
        return found[0] if found else None

    def list_deployments(
        self, *, flow_name: str | None = None, work_pool_name: str | None = None
    ) -> list[Deployment]:
        conditions = []
        if flow_name is not None:
            conditions.append(deployments.c.flow_name == flow_name)
        if work_pool_name is not None:
            conditions.append(deployments.c.work_pool_name == work_pool_name)
        with self._read() as conn:
            return _read_deployments(conn, sa.and_(sa.true(), *conditions))

    def set_deployment_paused(
        self, deployment_id: str, paused: bool, *, now: float | None = None
    ) -> Deployment:
        when = time.time() if now is None else now

        def pause(conn: Connection) -> Deployment:
            found = _read_deployments(conn, deployments.c.id == deployment_id)
            if not found:
                raise deployment_not_found(conn, deployment_id)
            if found[0].paused == paused:
                return found[0]
            conn.execute(
                deployments.update()
                .where(deployments.c.id == deployment_id)
                .values(paused=paused, updated=when)
            )
            if paused:
                delete_future_runs(conn, deployment_id, when)
            return _read_deployments(conn, deployments.c.id == deployment_id)[0]

        return self._transaction(pause)

    def delete_deployment(self, deployment_id: str) -> bool:
        def delete(conn: Connection) -> bool:
            conn.execute(
                flow_runs.delete().where(
                    flow_runs.c.deployment_id == deployment_id,
                    flow_runs.c.state_type == StateType.SCHEDULED.value,
                )
            )
            result = conn.execute(deployments.delete().where(deployments.c.id == deployment_id))
            return bool(result.rowcount)

        return self._transaction(delete)

    # -- work pools and queues ---------------------------------------------------------------
    def create_work_pool(self, pool: WorkPool, *, now: float | None = None) -> WorkPool:
        from cadenza.deploy.pools import DEFAULT_QUEUE, check_pool

        check_pool(pool)
        when = time.time() if now is None else now

        def create(conn: Connection) -> WorkPool:
            if _pool_row(conn, pool.name) is not None:
                raise ObjectAlreadyExists(
                    f"A work pool named {pool.name!r} exists already; see "
                    f"`cadenza work-pool inspect {pool.name}`."
                )
            conn.execute(
                work_pools.insert().values(
                    name=pool.name,
                    description=pool.description,
                    paused=pool.paused,
                    concurrency_limit=pool.concurrency_limit,
                    created=when,
                )
            )
            conn.execute(
                work_queues.insert().values(
                    pool_name=pool.name,
                    name=DEFAULT_QUEUE,
                    priority=1,
                    created=when,
                    description="The queue of runs that name no other queue.",
                )
            )
            return _pool_from_row(_pool_row(conn, pool.name))

        return self._transaction(create)

    def read_work_pool(self, name: str) -> WorkPool | None:
        with self._read() as conn:
            row = _pool_row(conn, name)
        return None if row is None else _pool_from_row(row)

    def list_work_pools(self) -> list[WorkPool]:
        with self._read() as conn:
            found = conn.execute(sa.select(work_pools).order_by(work_pools.c.name)).all()
        return [_pool_from_row(r) for r in found]

    def update_work_pool(
        self,
        name: str,
        *,
        description: str | None = UNSET,
        paused: bool = UNSET,
        concurrency_limit: int | None = UNSET,
    ) -> WorkPool:
        changes = _given(
            description=description, paused=paused, concurrency_limit=concurrency_limit
        )
        if "concurrency_limit" in changes:
            from cadenza.deploy.pools import check_limit

            check_limit(concurrency_limit, f"work pool {name!r}")

        def update(conn: Connection) -> WorkPool:
            if _pool_row(conn, name) is None:
                raise pool_not_found(conn, name)
            if changes:
                conn.execute(work_pools.update().where(work_pools.c.name == name).values(changes))
            return _pool_from_row(_pool_row(conn, name))

        return self._transaction(update)

    def create_work_queue(self, queue: WorkQueue, *, now: float | None = None) -> WorkQueue:
        from cadenza.deploy.pools import check_queue

        check_queue(queue)
        when = time.time() if now is None else now

        def create(conn: Connection) -> WorkQueue:
            if _pool_row(conn, queue.pool_name) is None:
                raise pool_not_found(conn, queue.pool_name)
            if _queue_row(conn, queue.pool_name, queue.name) is not None:
                raise ObjectAlreadyExists(
                    f"Work pool {queue.pool_name!r} has a queue named {queue.name!r} already."
                )
            conn.execute(
                work_queues.insert().values(
                    pool_name=queue.pool_name,
                    name=queue.name,
                    description=queue.description,
                    priority=queue.priority,
                    concurrency_limit=queue.concurrency_limit,
                    paused=queue.paused,
                    created=when,
                )
            )
            return _queue_from_row(_queue_row(conn, queue.pool_name, queue.name))

        return self._transaction(create)

    def read_work_queue(self, pool_name: str, name: str) -> WorkQueue | None:
        with self._read() as conn:
            row = _queue_row(conn, pool_name, name)
        return None if row is None else _queue_from_row(row)

    def list_work_queues(self, pool_name: str) -> list[WorkQueue]:
        with self._read() as conn:
            if _pool_row(conn, pool_name) is None:
                raise pool_not_found(conn, pool_name)
            return [_queue_from_row(r) for r in queue_rows(conn, pool_name)]

    def update_work_queue(
        self,
        pool_name: str,
        name: str,
        *,
        description: str | None = UNSET,
        priority: int = UNSET,
        paused: bool = UNSET,
        concurrency_limit: int | None = UNSET,
    ) -> WorkQueue:
        changes = _given(
            description=description,
            priority=priority,
            paused=paused,
            concurrency_limit=concurrency_limit,
        )
        from cadenza.deploy.pools import check_limit, check_priority

        if "priority" in changes:
            check_priority(priority)
        if "concurrency_limit" in changes:
            check_limit(concurrency_limit, f"work queue {name!r}")

        def update(conn: Connection) -> WorkQueue:
            require_queue(conn, pool_name, name)
            if changes:
                conn.execute(
                    work_queues.update()
                    .where(work_queues.c.pool_name == pool_name, work_queues.c.name == name)
                    .values(changes)
                )
            return _queue_from_row(_queue_row(conn, pool_name, name))

        return self._transaction(update)


# -- helpers shared with deploy_runs --------------------------------------------------------
def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not UNSET}


def _pool_row(conn: Connection, name: str) -> Any:
    return conn.execute(sa.select(work_pools).where(work_pools.c.name == name)).first()


def _queue_row(conn: Connection, pool_name: str, name: str) -> Any:
    return conn.execute(
        sa.select(work_queues).where(
            work_queues.c.pool_name == pool_name, work_queues.c.name == name
        )
    ).first()


def queue_rows(conn: Connection, pool_name: str) -> list[Any]:
    """The queues of a pool, in priority order then by name."""
    return list(
        conn.execute(
            sa.select(work_queues)
            .where(work_queues.c.pool_name == pool_name)
            .order_by(work_queues.c.priority, work_queues.c.name)
        )
    )


def _listing(names: list[str], none: str) -> str:
    if not names:
        return none
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more


def pool_not_found(conn: Connection, name: str) -> WorkPoolNotFound:
    names = list(conn.execute(sa.select(work_pools.c.name).order_by(work_pools.c.name)).scalars())
    return WorkPoolNotFound(
        f"There is no work pool {name!r}. Work pools: "
        f"{_listing(names, 'none yet')}. Create it with `cadenza work-pool create {name}`."
    )


def require_queue(conn: Connection, pool_name: str, name: str) -> None:
    """Raise unless the pool and its queue exist.

    Raises:
        WorkPoolNotFound, WorkQueueNotFound: naming those that exist.
    """
    if _queue_row(conn, pool_name, name) is not None:
        return
    if _pool_row(conn, pool_name) is None:
        raise pool_not_found(conn, pool_name)
    names = [r.name for r in queue_rows(conn, pool_name)]
    raise WorkQueueNotFound(
        f"Work pool {pool_name!r} has no queue {name!r}. Its queues: {_listing(names, 'none')}. "
        f"Create it with `cadenza work-pool queue create {pool_name} {name}`."
    )


def deployment_not_found(conn: Connection, deployment_id: str) -> DeploymentNotFound:
    found = conn.execute(
        sa.select(deployments.c.flow_name, deployments.c.name).order_by(
            deployments.c.flow_name, deployments.c.name
        )
    ).all()
    names = [f"{flow}/{name}" for flow, name in found]
    return DeploymentNotFound(
        f"There is no deployment with id {deployment_id!r}. Deployments: "
        f"{_listing(names, 'none yet')}."
    )


def delete_future_runs(conn: Connection, deployment_id: str, now: float) -> None:
    """Delete the runs the scheduler created for the future that are still Scheduled."""
    c = flow_runs.c
    conn.execute(
        flow_runs.delete().where(
            c.deployment_id == deployment_id,
            c.state_type == StateType.SCHEDULED.value,
            c.expected_start_time >= now,
            c.idempotency_key.startswith(AUTO_SCHEDULED_PREFIX, autoescape=True),
        )
    )


def _pool_from_row(r: Any) -> WorkPool:
    from cadenza.deploy.pools import WorkPool

    return WorkPool(
        name=r.name,
        description=r.description,
        paused=bool(r.paused),
        concurrency_limit=r.concurrency_limit,
        created=r.created,
    )


def _queue_from_row(r: Any) -> WorkQueue:
    from cadenza.deploy.pools import WorkQueue

    return WorkQueue(
        pool_name=r.pool_name,
        name=r.name,
        priority=r.priority,
        concurrency_limit=r.concurrency_limit,
        paused=bool(r.paused),
        description=r.description,
        created=r.created,
    )


def _deployment_values(d: Deployment, now: float) -> dict[str, Any]:
    return {
        "flow_name": d.flow_name,
        "name": d.name,
        "entrypoint": d.entrypoint,
        "path": d.path,
        "parameters": dumps(d.parameters),
        "parameter_schema": dumps(d.parameter_schema),
        "work_pool_name": d.work_pool_name,
        "work_queue_name": d.work_queue_name,
        "tags": dumps(list(d.tags)),
        "description": d.description,
        "version": d.version,
        "paused": bool(d.paused),
        "concurrency_limit": d.concurrency_limit,
        "catchup": d.catchup,
        "flow_retries": d.flow_retries,
        "updated": now,
    }


def _schedule_values(deployment_id: str, position: int, s: DeploymentSchedule) -> dict[str, Any]:
    return {
        "id": s.id or uuid7(),
        "deployment_id": deployment_id,
        "kind": s.schedule.kind,
        "expression": s.schedule.expression(),
        "anchor": s.schedule.anchor(),
        "timezone": s.schedule.timezone,
        "active": bool(s.active),
        "position": position,
    }


def _schedule_key(kind: str, expression: str, anchor: float | None, tz: str, active: bool) -> Any:
    return (kind, expression, anchor, tz, bool(active))


def _replace_needed(conn: Connection, deployment_id: str, new: list[DeploymentSchedule]) -> bool:
    """Whether the stored schedules differ from ``new`` (then they are replaced)."""
    c = deployment_schedules.c
    stored = conn.execute(
        sa.select(c.kind, c.expression, c.anchor, c.timezone, c.active)
        .where(c.deployment_id == deployment_id)
        .order_by(c.position)
    ).all()
    wanted = [
        _schedule_key(
            s.schedule.kind,
            s.schedule.expression(),
            s.schedule.anchor(),
            s.schedule.timezone,
            s.active,
        )
        for s in new
    ]
    return [_schedule_key(*r) for r in stored] != wanted


def _read_deployments(conn: Connection, condition: Any) -> list[Deployment]:
    from cadenza.deploy.deployments import DeploymentSchedule
    from cadenza.deploy.schedules import schedule_from_parts

    rows = conn.execute(
        sa.select(deployments)
        .where(condition)
        .order_by(deployments.c.flow_name, deployments.c.name)
    ).all()
    if not rows:
        return []
    c = deployment_schedules.c
    by_deployment: dict[str, list[DeploymentSchedule]] = {r.id: [] for r in rows}
    for chunk in iter_chunks(list(by_deployment)):
        for s in conn.execute(
            sa.select(deployment_schedules)
            .where(c.deployment_id.in_(chunk))
            .order_by(c.deployment_id, c.position)
        ):
            schedule = schedule_from_parts(s.kind, s.expression, s.anchor, s.timezone)
            by_deployment[s.deployment_id].append(
                DeploymentSchedule(schedule, active=bool(s.active), id=s.id)
            )
    return [_deployment_from_row(r, by_deployment[r.id]) for r in rows]


def _deployment_from_row(r: Any, schedules: list[DeploymentSchedule]) -> Deployment:
    from cadenza.deploy.deployments import Deployment

    return Deployment(
        id=r.id,
        flow_name=r.flow_name,
        name=r.name,
        entrypoint=r.entrypoint,
        path=r.path,
        parameters=json.loads(r.parameters),
        parameter_schema=json.loads(r.parameter_schema),
        work_pool_name=r.work_pool_name,
        work_queue_name=r.work_queue_name,
        tags=json.loads(r.tags),
        description=r.description,
        version=r.version,
        paused=bool(r.paused),
        concurrency_limit=r.concurrency_limit,
        catchup=r.catchup,
        flow_retries=r.flow_retries,
        schedules=schedules,
        created=r.created,
        updated=r.updated,
    )


def iter_chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
