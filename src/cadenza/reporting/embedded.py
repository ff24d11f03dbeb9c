"""Reporting to a store in this process, through a background writer."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

from cadenza.events import Event
from cadenza.reporting.base import Reporter
from cadenza.states import StateType
from cadenza.store.base import RunStore

logger = logging.getLogger("cadenza.reporting")

_MAX_BATCH = 20_000
_MAX_RETRY_DELAY = 2.0
"""Seconds between two background attempts at most, while writing fails."""


class EmbeddedReporter(Reporter):
    """Batches events in memory and writes them to a :class:`RunStore` from a thread.

    ``emit`` appends to a deque (no lock, no I/O). A daemon thread wakes every
    ``interval`` seconds and writes what has accumulated in one transaction per
    batch; :meth:`flush` writes synchronously. One lock serializes writers within
    the process; between processes the store's own locking and retries apply.

    A batch that cannot be written goes back to the front of the queue, in order,
    and is tried again (the background thread waits longer between attempts while
    they fail, up to a few seconds): events are lost only if the process ends
    before the store is usable again. A process forked from this one starts with
    an empty queue (the events emitted before the fork are the parent's to write)
    and a writer of its own.

    Args:
        store_factory: opens the store (called once, on first use).
        interval: seconds between two background writes.
    """

    def __init__(self, store_factory: Callable[[], RunStore], interval: float = 0.1) -> None:
        self._store_factory = store_factory
        self._store: RunStore | None = None
        self._interval = interval
        self._queue: deque[Event] = deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._failing_since: float | None = None
        self.emit = self._queue.append  # type: ignore[method-assign,assignment]
        _instances.add(self)

    # -- Reporter ------------------------------------------------------------------------
    def emit(self, event: Event) -> None:  # replaced per instance by deque.append
        self._queue.append(event)

    def check(self) -> None:
        self.store  # noqa: B018 - opening the store raises a clear error if unusable
        self._ensure_thread()

    def cancel_requested(self, flow_run_id: str) -> bool:
        try:
            run = self.store.read_flow_run(flow_run_id)
        except Exception:
            return False
        return run is not None and any(s.type is StateType.CANCELLING for s in run.history or ())

    @property
    def store(self) -> RunStore:
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    def flush(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._write_lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            # The events emitted before this call are among the first len(queue): the
            # queue is first in, first out, and the writer thread took the others.
            # Events that other threads emit meanwhile do not keep this call going.
            todo = len(self._queue)
            while todo > 0 and self._queue:
                written = self._write_some()
                if written is None:
                    return False
                todo -= written
                if todo > 0 and deadline is not None and time.monotonic() > deadline:
                    return False
            return True
        finally:
            self._write_lock.release()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.flush(timeout=30)

    @property
    def pending(self) -> int:
        """Events waiting to be written."""
        return len(self._queue)

    # -- background writer ----------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="cadenza-writer", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        delay = self._interval
        while not self._closed:
            self._wake.wait(delay)
            self._wake.clear()
            ok = True
            if self._queue and self._write_lock.acquire(blocking=False):
                try:
                    # What is queued now, not more: a flush waiting for the lock gets
                    # its turn even while events keep coming.
                    todo = len(self._queue)
                    while ok and todo > 0 and self._queue:
                        written = self._write_some()
                        ok = written is not None
                        todo -= written or 0
                finally:
                    self._write_lock.release()
            if ok:
                delay = self._interval
            else:
                delay = min(max(2 * delay, self._interval), max(_MAX_RETRY_DELAY, self._interval))

    def _write_some(self) -> int | None:
        """Write one batch; returns its size, or None when it failed (the batch is then
        back at the front of the queue)."""
        queue = self._queue
        n = min(len(queue), _MAX_BATCH)
        popleft = queue.popleft
        batch = [popleft() for _ in range(n)]
        try:
            self.store.apply(batch)
        except BaseException as exc:
            # Also on KeyboardInterrupt (Ctrl-C during a flush): nothing is lost.
            queue.extendleft(reversed(batch))
            if not isinstance(exc, Exception):
                raise
            self._report_failure(exc)
            return None
        if self._failing_since is not None:
            logger.warning("Recording runs works again; %d pending events written.", len(batch))
            self._failing_since = None
        return n

    def _after_fork_in_child(self) -> None:
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._queue.clear()
        self._failing_since = None
        had_thread = self._thread is not None
        self._thread = None
        if had_thread and not self._closed:
            self._ensure_thread()

    def _report_failure(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._failing_since is None or now - self._failing_since > 60:
            logger.error(
                "Could not record %d run events: %s. They are kept in memory and retried.",
                len(self._queue),
                exc,
            )
            self._failing_since = now


_instances: weakref.WeakSet[EmbeddedReporter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # Locks held by a thread of the parent would never be released in the child.
    for reporter in list(_instances):
        reporter._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
