"""Concurrency limits by tag in SQL (a mixin of ``SqlStore``).

Taking slots is one write transaction: on SQLite it holds the database's write lock
from its first statement (``BEGIN IMMEDIATE``), on PostgreSQL the limits' rows are
locked (``FOR UPDATE``), so two processes counting the slots of a tag at once never
both see room for one more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.store.concurrency_base import ConcurrencyLimitStore
from cadenza.store.schema import concurrency_limits, concurrency_slots

if TYPE_CHECKING:
    from cadenza.deploy.records import ConcurrencyLimit

T = TypeVar("T")
_L = concurrency_limits.c
_S = concurrency_slots.c
_LIMIT = concurrency_limits.c["limit"]


class ConcurrencySqlMixin(ConcurrencyLimitStore):
    """The concurrency limit methods of :class:`~cadenza.store.sql.SqlStore`."""

    if TYPE_CHECKING:

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

    def set_concurrency_limit(
        self, tag: str, limit: int, *, now: float | None = None
    ) -> ConcurrencyLimit:
        from cadenza.deploy.records import check_concurrency_limit

        check_concurrency_limit(tag, limit)
        when = time.time() if now is None else now

        def put(conn: Connection) -> ConcurrencyLimit:
            changed = conn.execute(
                concurrency_limits.update().where(_L.tag == tag).values({"limit": limit})
            ).rowcount
            if not changed:
                conn.execute(concurrency_limits.insert().values(tag=tag, limit=limit, created=when))
            return _limits(conn, when, _L.tag == tag)[0]

        return self._transaction(put)

    def read_concurrency_limit(
        self, tag: str, *, now: float | None = None
    ) -> ConcurrencyLimit | None:
        when = time.time() if now is None else now
        with self._read() as conn:
            found = _limits(conn, when, _L.tag == tag)
        return found[0] if found else None

    def list_concurrency_limits(self, *, now: float | None = None) -> list[ConcurrencyLimit]:
        when = time.time() if now is None else now
        with self._read() as conn:
            return _limits(conn, when, sa.true())

    def delete_concurrency_limit(self, tag: str) -> bool:
        def delete(conn: Connection) -> bool:
            conn.execute(concurrency_slots.delete().where(_S.tag == tag))
            return bool(conn.execute(concurrency_limits.delete().where(_L.tag == tag)).rowcount)

        return self._transaction(delete)

    def acquire_concurrency_slots(
        self, tags: Collection[str], holder: str, *, ttl: float, now: float | None = None
    ) -> bool:
        wanted = list(dict.fromkeys(tags))
        if not wanted:
            return True
        when = time.time() if now is None else now

        def acquire(conn: Connection) -> bool:
            limits: dict[str, int] = dict(
                conn.execute(
                    sa.select(_L.tag, _LIMIT).where(_L.tag.in_(wanted)).with_for_update()
                ).all()
            )
            if not limits:
                return True
            limited = list(limits)
            conn.execute(concurrency_slots.delete().where(_S.tag.in_(limited), _S.expires <= when))
            used: dict[str, int] = dict(
                conn.execute(
                    sa.select(_S.tag, sa.func.count())
                    .where(_S.tag.in_(limited), _S.holder != holder)
                    .group_by(_S.tag)
                ).all()
            )
            if any(used.get(tag, 0) >= n for tag, n in limits.items()):
                return False
            conn.execute(concurrency_slots.delete().where(_S.tag.in_(limited), _S.holder == holder))
            conn.execute(
                concurrency_slots.insert(),
                [
                    {"tag": tag, "holder": holder, "acquired": when, "expires": when + ttl}
                    for tag in limited
                ],
            )
            return True

        return self._transaction(acquire)

    def renew_concurrency_slots(
        self, holders: Collection[str], *, ttl: float, now: float | None = None
    ) -> int:
        ids = list(dict.fromkeys(holders))
        if not ids:
            return 0
        when = time.time() if now is None else now

        def renew(conn: Connection) -> int:
            return int(
                conn.execute(
                    concurrency_slots.update()
                    .where(_S.holder.in_(ids), _S.expires > when)
                    .values(expires=when + ttl)
                ).rowcount
            )

        return self._transaction(renew)

    def release_concurrency_slots(self, holder: str) -> int:
        def release(conn: Connection) -> int:
            return int(conn.execute(concurrency_slots.delete().where(_S.holder == holder)).rowcount)

        return self._transaction(release)


def _limits(
    conn: Connection, now: float, condition: sa.ColumnElement[bool]
) -> list[ConcurrencyLimit]:
    """The limits matching ``condition``, by tag, with their slots live at ``now``."""
    from cadenza.deploy.records import ConcurrencyLimit, ConcurrencySlot

    found = {
        r.tag: ConcurrencyLimit(r.tag, r.limit, r.created)
        for r in conn.execute(
            sa.select(_L.tag, _LIMIT, _L.created).where(condition).order_by(_L.tag)
        )
    }
    if not found:
        return []
    slots = conn.execute(
        sa.select(_S.tag, _S.holder, _S.acquired, _S.expires)
        .where(_S.tag.in_(list(found)), _S.expires > now)
        .order_by(_S.acquired, _S.holder)
    )
    for tag, holder, acquired, expires in slots:
        found[tag].slots.append(ConcurrencySlot(holder, acquired, expires))
    return list(found.values())
