"""The notification store interfaces.

:class:`NotificationStore` holds what people configure and read: channels,
automations, the outbox's messages and the history of their delivery, and it takes
new messages. Both the SQL store and the HTTP client of a server
(:class:`cadenza.client.http_notify.HttpNotificationStore`) implement it, so that the
command line and the Python API work the same against the embedded database and a
server. :class:`DeliveryQueue` is the other side, in the database only: senders
claiming due messages and recording attempts, and the automations service's cursor.
The contract tests in ``tests/notify`` run against every implementation.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cadenza.runs import FlowRun

if TYPE_CHECKING:
    from cadenza.notify.automations import Automation
    from cadenza.notify.channels import Channel
    from cadenza.notify.records import DeliveryAttempt, OutboxMessage, RunNotification


class NotificationStore(abc.ABC):
    """Channels, automations and the outbox."""

    # -- channels ----------------------------------------------------------------------
    @abc.abstractmethod
    def create_channel(self, channel: Channel, *, replace: bool = False) -> Channel:
        """Store ``channel`` under its name; returns it as stored (with ``id`` and
        ``created``; its secrets as references or hidden values, never in clear).

        With ``replace``, a channel of that name is replaced (keeping its id).

        Raises:
            ObjectAlreadyExists: a channel has this name and ``replace`` is False.
            SecretError: a secret value cannot be encrypted (no usable key).
        """

    @abc.abstractmethod
    def read_channel(self, name: str) -> Channel | None:
        """The channel of this name, or None if there is none."""

    @abc.abstractmethod
    def list_channels(self) -> list[Channel]:
        """Every channel, by name (an empty list when there is none)."""

    @abc.abstractmethod
    def delete_channel(self, name: str) -> bool:
        """Delete the channel of this name; False when there is none.

        Raises:
            InvalidNotificationConfig: automations notify this channel; the message
                names them (delete them or change their channels first).
        """

    # -- automations -------------------------------------------------------------------
    @abc.abstractmethod
    def create_automation(self, automation: Automation, *, replace: bool = False) -> Automation:
        """Store ``automation``; returns it as stored (with ``id`` and ``created``).

        With ``replace``, an automation of that name is replaced (keeping its id).

        Raises:
            ObjectAlreadyExists: an automation has this name and ``replace`` is False.
            InvalidNotificationConfig: one of its channels does not exist.
        """

    @abc.abstractmethod
    def read_automation(self, name: str) -> Automation | None:
        """The automation of this name, or None if there is none."""

    @abc.abstractmethod
    def list_automations(self, *, enabled_only: bool = False) -> list[Automation]:
        """Every automation (only the enabled ones with ``enabled_only``), by name."""

    @abc.abstractmethod
    def set_automation_enabled(self, name: str, enabled: bool) -> bool:
        """Enable or disable the automation of this name; False when there is none."""

    @abc.abstractmethod
    def delete_automation(self, name: str) -> bool:
        """Delete the automation of this name (its messages stay in the history);
        False when there is none."""

    # -- the outbox --------------------------------------------------------------------
    @abc.abstractmethod
    def notify_run(self, request: RunNotification) -> str | None:
        """Queue the message a hook asks for: rendered from the run as this store
        records it (or from the names in ``request`` when it records no such run).
        Returns the id of the message, or None when this transition was notified to
        this channel already.

        Raises:
            InvalidNotificationConfig: the subject or body template does not render.
        """

    @abc.abstractmethod
    def send_message(
        self,
        channel: str,
        subject: str,
        body: str,
        *,
        to: Sequence[str] | None = None,
        source: str = "test",
    ) -> OutboxMessage:
        """Send a message through a channel now, in one attempt (the caller decides
        whether to try again), and record it in the history. ``to`` replaces the
        recipients of an e-mail channel. Returns the message: status ``sent``, or
        ``failed`` with the error in ``last_error``.

        Raises:
            ObjectNotFound: there is no channel of this name.
            InvalidNotificationConfig: ``to`` was given for a webhook channel.
        """

    @abc.abstractmethod
    def read_message(self, message_id: str) -> OutboxMessage | None:
        """The message with this id, or None if unknown."""

    @abc.abstractmethod
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
        """Messages matching every filter given, newest first, at most ``limit``.

        ``automation`` is the name the automation had when it queued the message.
        ``before_id`` is a cursor: only messages queued before the one with this id.
        Returns an empty list when nothing matches.
        """

    @abc.abstractmethod
    def list_attempts(self, message_id: str) -> list[DeliveryAttempt]:
        """Every attempt at delivering a message, oldest first (empty when unknown)."""


class DeliveryQueue(abc.ABC):
    """The senders' and the automations service's side of the outbox."""

    @abc.abstractmethod
    def enqueue(self, messages: Sequence[OutboxMessage]) -> list[str]:
        """Queue messages for delivery, in one transaction; returns the ids of those
        queued. A message whose ``dedup_key`` is in the outbox already (the same
        transition notified again) is left out, and so is the second of two
        messages with one key in ``messages``.

        Raises:
            StoreError: nothing was queued.
        """

    @abc.abstractmethod
    def claim_due(self, now: float, *, limit: int, lease: float) -> list[OutboxMessage]:
        """Claim up to ``limit`` pending messages due at ``now`` (oldest due first)
        for ``lease`` seconds: until then no other sender claims them. Messages
        another sender holds are skipped. Returns an empty list when none is due."""

    @abc.abstractmethod
    def finish_attempt(self, attempt: DeliveryAttempt, *, retry_at: float | None) -> None:
        """Record an attempt at delivering a message and release it.

        A successful attempt marks the message sent. A failed one sets it pending
        again until ``retry_at``, or, when ``retry_at`` is None, failed for good. An
        attempt for an unknown message records nothing.
        """

    @abc.abstractmethod
    def next_due(self) -> float | None:
        """When the earliest pending message is due, or None when none is pending."""

    @abc.abstractmethod
    def has_enabled_automations(self) -> bool:
        """Whether any automation is enabled (a cheap query)."""

    @abc.abstractmethod
    def read_cursor(self, name: str) -> float | None:
        """The position stored under ``name``, or None when none is."""

    @abc.abstractmethod
    def write_cursor(self, name: str, position: float) -> None:
        """Store ``position`` under ``name`` (replacing what was there)."""

    @abc.abstractmethod
    def changed_flow_runs(
        self, since: float, *, after: tuple[float, str] | None = None, limit: int = 500
    ) -> list[tuple[str, float]]:
        """``(flow run id, state timestamp)`` of the flow runs whose current state is
        newer than ``since``, in (timestamp, id) order, at most ``limit``; ``after``
        is the last pair of the previous page. Empty when none."""

    @abc.abstractmethod
    def overdue_flow_runs(self, after: float, until: float, *, limit: int = 500) -> list[FlowRun]:
        """Flow runs scheduled for a time in (``after``, ``until``] that have not
        completed, soonest first, at most ``limit``, without history. Empty when none."""

    @abc.abstractmethod
    def mark_runs(self, marks: Mapping[str, float]) -> None:
        """Ask for flow runs to be evaluated again from a time: ``{run id: since}``.
        A run marked already keeps the earlier time."""

    @abc.abstractmethod
    def marked_runs(self, limit: int = 500) -> dict[str, tuple[float, int]]:
        """Marked runs: ``{run id: (since, version)}``, at most ``limit`` (empty when
        none). The version changes each time the run is marked again."""

    @abc.abstractmethod
    def unmark_runs(self, marks: Mapping[str, tuple[float, int]]) -> None:
        """Remove the marks read by :meth:`marked_runs`; a run marked again since
        (another version) stays marked."""
