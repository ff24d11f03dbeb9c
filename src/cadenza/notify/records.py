"""Records of the outbox: messages to deliver, and each attempt at delivering them."""

from __future__ import annotations

import dataclasses
from typing import Any

from cadenza.states import State

PENDING = "pending"
"""Not delivered yet: waiting for its first attempt or for a retry."""
SENT = "sent"
"""Delivered: the channel's server accepted it."""
FAILED = "failed"
"""Given up: every attempt failed, or it can never be delivered (no such channel)."""
STATUSES = (PENDING, SENT, FAILED)


@dataclasses.dataclass(slots=True)
class OutboxMessage:
    """One message for one channel, about one transition of one run.

    ``dedup_key`` names the transition and who asked (the automation or the hook)
    and the channel: the outbox holds one message per key, so a transition seen
    twice (a batch of events delivered again, a process and a server both
    evaluating it) is notified once.
    """

    id: str
    dedup_key: str
    channel: str
    subject: str
    body: str
    event: str
    source: str
    """``automation``, ``hook``, ``task`` or ``test``."""
    created: float
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The variables the templates saw (for the webhook payload)."""
    flow_run_id: str | None = None
    automation_id: str | None = None
    automation_name: str | None = None
    status: str = PENDING
    attempts: int = 0
    next_attempt_at: float = 0.0
    sent_at: float | None = None
    last_error: str | None = None
    lease_until: float | None = None
    """Until when a sender holds it (set when it is queued to be sent at once)."""

    def public(self) -> dict[str, Any]:
        """Its JSON form (the message's text is no secret: it is what was sent)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "subject": self.subject,
            "body": self.body,
            "event": self.event,
            "source": self.source,
            "flow_run_id": self.flow_run_id,
            "automation_id": self.automation_id,
            "automation_name": self.automation_name,
            "status": self.status,
            "attempts": self.attempts,
            "created": self.created,
            "next_attempt_at": self.next_attempt_at if self.status == PENDING else None,
            "sent_at": self.sent_at,
            "last_error": self.last_error,
        }


@dataclasses.dataclass(slots=True)
class DeliveryAttempt:
    """One attempt at delivering a message: when, whether it worked, and the error."""

    message_id: str
    attempt: int
    """1 for the first attempt."""
    timestamp: float
    ok: bool
    error: str | None = None
    duration: float | None = None
    """Seconds the attempt took."""
    id: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "attempt": self.attempt,
            "timestamp": self.timestamp,
            "ok": self.ok,
            "error": self.error,
            "duration": self.duration,
        }


@dataclasses.dataclass(slots=True)
class RunNotification:
    """A request to notify a channel of a run's state: what a ``notify(...)`` hook
    asks for. The store holding the run renders the message from the run as
    recorded (its times, its history) and queues it.
    """

    channel: str
    flow_run_id: str
    state: State
    """The state the run (or ``task_run``) entered."""
    flow_name: str
    run_name: str
    subject: str | None = None
    """A template of the subject; the default one when None."""
    body: str | None = None
    source: str = "hook"
    task_run: dict[str, Any] | None = None
    """For a task's hook: ``{"id", "name", "task_key"}`` of the task run."""

    def dedup_key(self) -> str:
        """One message per channel, run (or task run) and transition."""
        run_id = self.task_run["id"] if self.task_run else self.flow_run_id
        return f"{self.source}:{self.channel}:{run_id}:{self.state.name}@{self.state.timestamp!r}"
