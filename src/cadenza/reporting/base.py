"""The reporting seam: where the engine sends what happens to runs."""

from __future__ import annotations

import abc

from cadenza.events import Event


class Reporter(abc.ABC):
    """Receives the engine's events and delivers them to a store, in batches.

    ``emit`` is called on the hot path of every task run: it must not block, do
    I/O or raise. Delivery happens in the background; :meth:`flush` waits for it.
    """

    @abc.abstractmethod
    def emit(self, event: Event) -> None:
        """Queue one event for delivery. Never blocks, never raises."""

    @abc.abstractmethod
    def flush(self, timeout: float | None = None) -> bool:
        """Deliver every event emitted so far before returning.

        Returns True when everything is durable in the store, False when delivery
        failed or ``timeout`` passed (the events stay queued and are retried; the
        failure is logged).
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Flush, then stop the background delivery."""

    def cancel_requested(self, flow_run_id: str) -> bool:
        """Whether someone asked to cancel this flow run (a ``Cancelling`` state was
        recorded for it by the API or the CLI). Called when the process is told to
        stop, to tell a cancellation from a crash; False when it cannot be known."""
        return False

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise a clear error now if the destination is unusable (called before a
        flow starts, so that bad configuration fails before any work)."""
