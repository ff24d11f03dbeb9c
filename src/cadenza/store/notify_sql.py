"""The notification store on SQLAlchemy Core: a mixin of :class:`~cadenza.store.sql.SqlStore`.

It uses the store's transactions (``_transaction``, retried while the database is
busy) and read connections (``_read``). Secrets are encrypted here, in the process
that holds the database, before they are written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.exceptions import InvalidNotificationConfig, ObjectAlreadyExists, ObjectNotFound
from cadenza.runs import FlowRun
from cadenza.store import dialects
from cadenza.store.notify_base import DeliveryQueue, NotificationStore
from cadenza.store.schema import (
    automations,
    flow_runs,
    notification_attempts,
    notification_channels,
    notification_cursors,
    notification_marks,
    notification_outbox,
)
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.notify.automations import Automation
    from cadenza.notify.channels import Channel
    from cadenza.notify.records import DeliveryAttempt, OutboxMessage, RunNotification
    from cadenza.store.base import RunStore

T = TypeVar("T")


class NotificationSqlMixin(NotificationStore, DeliveryQueue):
    """Channels, automations and the outbox in the store's database."""

    _dialect: str

    if TYPE_CHECKING:  # provided by SqlStore
        url: str

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

    # -- channels ----------------------------------------------------------------------
    def create_channel(self, channel: Channel, *, replace: bool = False) -> Channel:
        now = time.time()
        values = {
            "name": channel.name,
            "type": channel.type,
            "config": json.dumps(channel.config()),
            "secrets": json.dumps({k: v.to_stored() for k, v in channel.secrets().items()}),
            "updated": now,
        }
        self._transaction(
            lambda conn: _put(conn, notification_channels, "channel", values, now, replace)
        )
        stored = self.read_channel(channel.name)
        assert stored is not None
        return stored

    def read_channel(self, name: str) -> Channel | None:
        c = notification_channels.c
        with self._read() as conn:
            row = conn.execute(sa.select(notification_channels).where(c.name == name)).first()
        return _channel(row) if row is not None else None

    def list_channels(self) -> list[Channel]:
        query = sa.select(notification_channels).order_by(notification_channels.c.name)
        with self._read() as conn:
            return [_channel(r) for r in conn.execute(query)]

    def delete_channel(self, name: str) -> bool:
        c = notification_channels.c

        def delete(conn: Connection) -> bool:
            users = [
                a.name for a in _automations(conn, sa.select(automations)) if name in a.channels
            ]
            if users:
                raise InvalidNotificationConfig(
                    f"The channel {name!r} is notified by the automation(s) "
                    f"{', '.join(users)}; delete them or change their channels first."
                )
            return bool(conn.execute(notification_channels.delete().where(c.name == name)).rowcount)

        return self._transaction(delete)

    # -- automations -------------------------------------------------------------------
    def create_automation(self, automation: Automation, *, replace: bool = False) -> Automation:
        now = time.time()
        values = {
            "name": automation.name,
            "description": automation.description,
            "enabled": automation.enabled,
            "trigger": json.dumps(automation.trigger.to_dict()),
            "channels": json.dumps(list(automation.channels)),
            "subject": automation.subject,
            "body": automation.body,
            "updated": now,
        }

        def write(conn: Connection) -> None:
            known = set(
                conn.execute(
                    sa.select(notification_channels.c.name).where(
                        notification_channels.c.name.in_(automation.channels)
                    )
                ).scalars()
            )
            missing = [name for name in automation.channels if name not in known]
            if missing:
                raise InvalidNotificationConfig(
                    f"automation {automation.name!r}: there is no channel named "
                    f"{missing[0]!r}; create it first (cadenza channel create ...)."
                )
            _put(conn, automations, "automation", values, now, replace)

        self._transaction(write)
        _automations_changed()
        stored = self.read_automation(automation.name)
        assert stored is not None
        return stored

    def read_automation(self, name: str) -> Automation | None:
        with self._read() as conn:
            found = _automations(conn, sa.select(automations).where(automations.c.name == name))
        return found[0] if found else None

    def list_automations(self, *, enabled_only: bool = False) -> list[Automation]:
        query = sa.select(automations).order_by(automations.c.name)
        if enabled_only:
            query = query.where(automations.c.enabled.is_(True))
        with self._read() as conn:
            return _automations(conn, query)

    def set_automation_enabled(self, name: str, enabled: bool) -> bool:
        statement = (
            automations.update()
            .where(automations.c.name == name)
            .values(enabled=bool(enabled), updated=time.time())
        )
        changed = self._transaction(lambda conn: bool(conn.execute(statement).rowcount))
        _automations_changed()
        return changed

    def delete_automation(self, name: str) -> bool:
        statement = automations.delete().where(automations.c.name == name)
        deleted = self._transaction(lambda conn: bool(conn.execute(statement).rowcount))
        _automations_changed()
        return deleted

    def has_enabled_automations(self) -> bool:
        with self._read() as conn:
            return conn.execute(_ENABLED_AUTOMATION).first() is not None

    def _note_automations(self, conn: Connection | None) -> None:
        """Tell this process's notifications whether an automation is enabled, read in
        the transaction that opened the store (None: it created the schema, so there
        is none), so that the first runs to finish do not ask the database again."""
        from cadenza.notify.runtime import remember_automations

        found = conn is not None and conn.execute(_ENABLED_AUTOMATION).first() is not None
        remember_automations(self.url, found)

    # -- the outbox --------------------------------------------------------------------
    def enqueue(self, messages: Sequence[OutboxMessage]) -> list[str]:
        if not messages:
            return []
        insert = dialects.insert_ignore(notification_outbox, self._dialect)
        rows = [_message_row(m) for m in messages]

        def write(conn: Connection) -> list[str]:
            return [row["id"] for row in rows if conn.execute(insert, row).rowcount]

        return self._transaction(write)

    def notify_run(self, request: RunNotification) -> str | None:
        from cadenza.notify.evaluate import message_for_request

        ids = self.enqueue([message_for_request(cast("RunStore", self), request)])
        return ids[0] if ids else None

    def send_message(
        self,
        channel: str,
        subject: str,
        body: str,
        *,
        to: Sequence[str] | None = None,
        source: str = "test",
    ) -> OutboxMessage:
        from cadenza.notify.delivery import LEASE_SECONDS, Sender
        from cadenza.notify.records import OutboxMessage

        found = self.read_channel(channel)
        if found is None:
            raise ObjectNotFound(
                f"There is no channel named {channel!r}; list them with `cadenza channel ls`."
            )
        if to and found.type != "email":
            raise InvalidNotificationConfig(
                f"The channel {channel!r} is a {found.type} channel: only e-mail channels "
                "take recipients."
            )
        now = time.time()
        message_id = uuid7()
        message = OutboxMessage(
            id=message_id,
            dedup_key=f"{source}:{message_id}",
            channel=channel,
            subject=subject,
            body=body,
            event="Test" if source == "test" else "Message",
            source=source,
            created=now,
            context={"to": list(to)} if to else {},
            next_attempt_at=now,
            lease_until=now + LEASE_SECONDS,
        )
        self.enqueue([message])
        Sender(self, max_attempts=1).deliver(message)
        stored = self.read_message(message_id)
        assert stored is not None
        return stored

    def read_message(self, message_id: str) -> OutboxMessage | None:
        query = sa.select(notification_outbox).where(notification_outbox.c.id == message_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        return _message(row) if row is not None else None

    def list_messages(
        self,
        *,
        automation: str | None = None,
        channel: str | None = None,
        flow_run_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        before_id: str | None = None,
    ) -> list[OutboxMessage]:
        if limit <= 0:
            return []
        o = notification_outbox.c
        query = sa.select(notification_outbox)
        for column, value in (
            (o.automation_name, automation),
            (o.channel, channel),
            (o.flow_run_id, flow_run_id),
            (o.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        if before_id is not None:
            query = query.where(o.id < before_id)
        query = query.order_by(o.id.desc()).limit(limit)
        with self._read() as conn:
            return [_message(r) for r in conn.execute(query)]

    def list_attempts(self, message_id: str) -> list[DeliveryAttempt]:
        from cadenza.notify.records import DeliveryAttempt

        t = notification_attempts.c
        query = sa.select(notification_attempts).where(t.message_id == message_id).order_by(t.id)
        with self._read() as conn:
            return [
                DeliveryAttempt(
                    r.message_id, r.attempt, r.timestamp, bool(r.ok), r.error, r.duration, r.id
                )
                for r in conn.execute(query)
            ]

    # -- delivery ----------------------------------------------------------------------
    def claim_due(self, now: float, *, limit: int, lease: float) -> list[OutboxMessage]:
        from cadenza.notify.records import PENDING

        o = notification_outbox.c
        free = sa.or_(o.lease_until.is_(None), o.lease_until < now)
        due = (
            sa.select(o.id)
            .where(o.status == PENDING, o.next_attempt_at <= now, free)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)

        def claim(conn: Connection) -> list[OutboxMessage]:
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            conn.execute(
                notification_outbox.update()
                .where(o.id.in_(ids), o.status == PENDING, free)
                .values(lease_until=now + lease)
            )
            rows = conn.execute(
                sa.select(notification_outbox)
                .where(o.id.in_(ids))
                .order_by(o.next_attempt_at, o.id)
            )
            return [_message(r) for r in rows]

        return self._transaction(claim)

    def finish_attempt(self, attempt: DeliveryAttempt, *, retry_at: float | None) -> None:
        from cadenza.notify.records import FAILED, PENDING, SENT

        o = notification_outbox.c
        if attempt.ok:
            values: dict[str, Any] = {"status": SENT, "sent_at": attempt.timestamp}
        elif retry_at is not None:
            values = {"status": PENDING, "next_attempt_at": retry_at}
        else:
            values = {"status": FAILED}
        values.update(
            attempts=o.attempts + 1,
            lease_until=None,
            last_error=None if attempt.ok else attempt.error,
        )

        def write(conn: Connection) -> None:
            changed = conn.execute(
                notification_outbox.update().where(o.id == attempt.message_id).values(values)
            ).rowcount
            if changed:
                conn.execute(
                    notification_attempts.insert().values(
                        message_id=attempt.message_id,
                        attempt=attempt.attempt,
                        timestamp=attempt.timestamp,
                        ok=attempt.ok,
                        error=attempt.error,
                        duration=attempt.duration,
                    )
                )

        self._transaction(write)

    def next_due(self) -> float | None:
        from cadenza.notify.records import PENDING

        o = notification_outbox.c
        query = sa.select(sa.func.min(o.next_attempt_at)).where(o.status == PENDING)
        with self._read() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else float(value)

    # -- following flow runs -----------------------------------------------------------
    def read_cursor(self, name: str) -> float | None:
        query = sa.select(notification_cursors.c.position).where(
            notification_cursors.c.name == name
        )
        with self._read() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else float(value)

    def write_cursor(self, name: str, position: float) -> None:
        insert = dialects.dialect_insert(notification_cursors, self._dialect)
        statement = insert.values(name=name, position=position, updated=time.time())
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"position": statement.excluded.position, "updated": statement.excluded.updated},
        )
        self._transaction(lambda conn: conn.execute(statement))

    def changed_flow_runs(
        self, since: float, *, after: tuple[float, str] | None = None, limit: int = 500
    ) -> list[tuple[str, float]]:
        f = flow_runs.c
        query = sa.select(f.id, f.state_timestamp).where(f.state_timestamp > since)
        if after is not None:
            ts, run_id = after
            query = query.where(
                sa.or_(f.state_timestamp > ts, sa.and_(f.state_timestamp == ts, f.id > run_id))
            )
        query = query.order_by(f.state_timestamp, f.id).limit(limit)
        with self._read() as conn:
            return [(r.id, float(r.state_timestamp)) for r in conn.execute(query)]

    def overdue_flow_runs(self, after: float, until: float, *, limit: int = 500) -> list[FlowRun]:
        from cadenza.states import StateType
        from cadenza.store.run_queries import flow_run_from_row, flow_run_select

        f = flow_runs.c
        unfinished = [t.value for t in StateType if t is not StateType.COMPLETED]
        query = (
            flow_run_select(with_history=False)
            .where(
                f.state_type.in_(unfinished),
                f.expected_start_time > after,
                f.expected_start_time <= until,
            )
            .order_by(f.expected_start_time, f.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [flow_run_from_row(r, with_history=False) for r in conn.execute(query)]

    def mark_runs(self, marks: Mapping[str, float]) -> None:
        if not marks:
            return
        insert = dialects.dialect_insert(notification_marks, self._dialect)
        m = notification_marks.c
        statement = insert.on_conflict_do_update(
            index_elements=["flow_run_id"],
            set_={
                "since": dialects.least(m.since, insert.excluded.since, self._dialect),
                "version": m.version + 1,
            },
        )
        rows = [{"flow_run_id": k, "since": v, "version": 1} for k, v in marks.items()]
        self._transaction(lambda conn: conn.execute(statement, rows))

    def marked_runs(self, limit: int = 500) -> dict[str, tuple[float, int]]:
        m = notification_marks.c
        query = sa.select(m.flow_run_id, m.since, m.version).order_by(m.since).limit(limit)
        with self._read() as conn:
            return {r.flow_run_id: (float(r.since), int(r.version)) for r in conn.execute(query)}

    def unmark_runs(self, marks: Mapping[str, tuple[float, int]]) -> None:
        if not marks:
            return
        m = notification_marks.c
        statement = notification_marks.delete().where(
            m.flow_run_id == sa.bindparam("b_id"), m.version == sa.bindparam("b_version")
        )
        rows = [{"b_id": k, "b_version": v[1]} for k, v in marks.items()]
        self._transaction(lambda conn: conn.execute(statement, rows))


_ENABLED_AUTOMATION = sa.select(automations.c.id).where(automations.c.enabled.is_(True)).limit(1)


def _automations_changed() -> None:
    """Let this process's next finished run ask the database whether an automation is
    enabled, rather than reuse an answer from before this change."""
    from cadenza.notify.runtime import forget_automations_cache

    forget_automations_cache()


# -- rows ------------------------------------------------------------------------------
def _put(
    conn: Connection,
    table: sa.Table,
    kind: str,
    values: dict[str, Any],
    now: float,
    replace: bool,
) -> None:
    """Insert the row named ``values["name"]``, or replace it (keeping its id)."""
    name = values["name"]
    found = conn.execute(sa.select(table.c.id).where(table.c.name == name)).first()
    if found is None:
        conn.execute(table.insert().values(id=uuid7(), created=now, **values))
    elif replace:
        conn.execute(table.update().where(table.c.id == found.id).values(values))
    else:
        raise ObjectAlreadyExists(
            f"A {kind} named {name!r} exists already; delete it first, or replace it "
            "(--replace on the command line, replace=True in Python)."
        )


def _channel(row: Any) -> Channel:
    from cadenza.notify.channels import Channel
    from cadenza.notify.secrets import Secret

    secrets = {k: Secret.from_stored(v) for k, v in json.loads(row.secrets).items()}
    channel = Channel.from_parts(row.name, row.type, json.loads(row.config), secrets)
    channel.id = row.id
    channel.created = row.created
    return channel


def _automations(conn: Connection, query: Any) -> list[Automation]:
    from cadenza.notify.automations import Automation, trigger_from_dict

    out = []
    for r in conn.execute(query):
        automation = Automation(
            r.name,
            trigger_from_dict(json.loads(r.trigger)),
            json.loads(r.channels),
            subject=r.subject,
            body=r.body,
            enabled=bool(r.enabled),
            description=r.description,
        )
        automation.id = r.id
        automation.created = r.created
        out.append(automation)
    return out


def _message_row(m: OutboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "dedup_key": m.dedup_key,
        "channel": m.channel,
        "subject": m.subject,
        "body": m.body,
        "context": json.dumps(m.context, default=str),
        "event": m.event,
        "source": m.source,
        "flow_run_id": m.flow_run_id,
        "automation_id": m.automation_id,
        "automation_name": m.automation_name,
        "status": m.status,
        "attempts": m.attempts,
        "created": m.created,
        "next_attempt_at": m.next_attempt_at,
        "lease_until": m.lease_until,
        "sent_at": m.sent_at,
        "last_error": m.last_error,
    }


def _message(r: Any) -> OutboxMessage:
    from cadenza.notify.records import OutboxMessage

    return OutboxMessage(
        id=r.id,
        dedup_key=r.dedup_key,
        channel=r.channel,
        subject=r.subject,
        body=r.body,
        event=r.event,
        source=r.source,
        created=r.created,
        context=json.loads(r.context),
        flow_run_id=r.flow_run_id,
        automation_id=r.automation_id,
        automation_name=r.automation_name,
        status=r.status,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        sent_at=r.sent_at,
        last_error=r.last_error,
    )
