"""Delivering the outbox: at least once, with retries and exponential backoff.

A :class:`Sender` claims the messages that are due (a lease keeps other senders,
in other processes or a server, off them while it sends), sends each through its
channel, and records every attempt in the history. A failed attempt is retried
after ``retry_delay`` seconds, then twice that, and so on up to ``max_delay``,
until ``max_attempts`` have failed: the message is then marked failed. A receiver
that refuses the message itself (a 4xx answer, an SMTP 5xx) fails it at once. A
sender that dies between sending and recording leaves the message leased; when the
lease ends it is sent again, which is why delivery is *at least* once (webhook
receivers get the message's id in ``X-Cadenza-Message-Id`` to drop a repeat).

Failures are logged, one line each, without secrets, on the ``cadenza.notify``
logger. Nothing here raises into a run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from cadenza.exceptions import DeliveryError
from cadenza.notify.records import DeliveryAttempt, OutboxMessage

logger = logging.getLogger("cadenza.notify")

LEASE_SECONDS = 120.0
"""How long a sender holds a message it is sending."""
BATCH = 20


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before the attempt after ``attempt`` (1 for the first), with ±10 % jitter."""
    delay = min(base * (2 ** max(attempt - 1, 0)), cap)
    return max(delay * (0.9 + 0.2 * random.random()), 0.0)


class Sender:
    """Delivers the due messages of a store's outbox.

    Args:
        store: a store that is both a :class:`~cadenza.store.notify_base.NotificationStore`
            and a :class:`~cadenza.store.notify_base.DeliveryQueue` (the SQL store).
        retry_delay, max_delay, max_attempts: the retry policy; by default the
            settings' ``CADENZA_NOTIFY_RETRY_DELAY``, ``..._RETRY_MAX_DELAY`` and
            ``..._MAX_ATTEMPTS``.
        clock: the time (seconds since the epoch); tests pass their own.
    """

    def __init__(
        self,
        store: Any,
        *,
        retry_delay: float | None = None,
        max_delay: float | None = None,
        max_attempts: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from cadenza.settings import get_settings

        settings = get_settings()
        self.store = store
        self.retry_delay = settings.notify_retry_delay if retry_delay is None else retry_delay
        self.max_delay = settings.notify_retry_max_delay if max_delay is None else max_delay
        attempts = settings.notify_max_attempts if max_attempts is None else max_attempts
        self.max_attempts = max(1, attempts)
        self.clock = clock
        self._channels: dict[str, Any] = {}

    def deliver_due(self, *, limit: int = 1000, deadline: float | None = None) -> int:
        """Send the messages due now, until none is due, ``limit`` were tried, or the
        ``deadline`` (``time.monotonic()``) passed. Returns how many were tried."""
        tried = 0
        self._channels.clear()  # channels are read again for each round
        while tried < limit and (deadline is None or time.monotonic() < deadline):
            batch = self.store.claim_due(
                self.clock(), limit=min(BATCH, limit - tried), lease=LEASE_SECONDS
            )
            if not batch:
                break
            for message in batch:
                self.deliver(message)
                tried += 1
        return tried

    def deliver(self, message: OutboxMessage) -> bool:
        """Send one claimed message and record the attempt; True when it was sent."""
        from cadenza.notify import transport

        number = message.attempts + 1
        started = time.monotonic()
        error: str | None = None
        permanent = False
        try:
            channel = self._channel(message.channel)
            if channel is None:
                permanent = True
                error = (
                    f"there is no channel named {message.channel!r} (it was deleted or "
                    "never created)"
                )
            else:
                transport.send(channel, message)
        except transport.PermanentDeliveryError as exc:
            error, permanent = str(exc), True
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # a bug or an unexpected library error: retried
            error = f"{type(exc).__name__}: {exc}"
            logger.debug("delivery error", exc_info=True)
        duration = time.monotonic() - started
        retry_at = None
        if error is not None and not permanent and number < self.max_attempts:
            retry_at = self.clock() + backoff(number, self.retry_delay, self.max_delay)
        attempt = DeliveryAttempt(
            message.id, number, self.clock(), error is None, error, round(duration, 6)
        )
        self.store.finish_attempt(attempt, retry_at=retry_at)
        if error is not None:
            self._log_failure(message, number, error, retry_at)
        return error is None

    def _channel(self, name: str) -> Any:
        if name not in self._channels:
            self._channels[name] = self.store.read_channel(name)
        return self._channels[name]

    def _log_failure(
        self, message: OutboxMessage, number: int, error: str, retry_at: float | None
    ) -> None:
        about = (
            f"{message.event} of flow run {message.flow_run_id}"
            if message.flow_run_id
            else message.event
        )
        if retry_at is None:
            logger.error(
                "Notification %s (%s) to channel %r failed for good after %d attempt(s): %s",
                message.id,
                about,
                message.channel,
                number,
                error,
            )
        else:
            logger.warning(
                "Notification %s (%s) to channel %r failed (attempt %d of %d): %s; "
                "retrying in %.3g s.",
                message.id,
                about,
                message.channel,
                number,
                self.max_attempts,
                error,
                max(retry_at - self.clock(), 0.0),
            )
