"""Reporting to a store in this process, through a background writer."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from cadenza.events import Event
from cadenza.exceptions import StoreError
from cadenza.reporting.base import Reporter
from cadenza.store.base import RunStore

logger = logging.getLogger("cadenza.reporting")

_MAX_BATCH = 20_000


class EmbeddedReporter(Reporter):
    """Batches events in memory and writes them to a :class:`RunStore` from a thread.

    ``emit`` appends to a deque (no lock, no I/O). A daemon thread wakes every
    ``interval`` seconds and writes what has accumulated in one transaction per
    batch; :meth:`flush` writes synchronously. One lock serializes writers within
    the process; between processes the store's own locking and retries apply.

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
        self.emit = self._queue.append  # type: ignore[method-assign]

    # -- Reporter ------------------------------------------------------------------------
    def emit(self, event: Event) -> None:  # replaced per instance by deque.append
        self._queue.append(event)

    def check(self) -> None:
        self.store  # noqa: B018 - opening the store raises a clear error if unusable
        self._ensure_thread()

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
            while self._queue:
                if not self._write_some():
                    return False
                if deadline is not None and time.monotonic() > deadline:
                    return not self._queue
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
            self._thread = threading.Thread(
                target=self._loop, name="cadenza-writer", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._queue and self._write_lock.acquire(blocking=False):
                try:
                    while self._queue and self._write_some():
                        pass
                finally:
                    self._write_lock.release()

    def _write_some(self) -> bool:
        """Write up to one batch; on failure put it back and return False."""
        queue = self._queue
        n = min(len(queue), _MAX_BATCH)
        popleft = queue.popleft
        batch = [popleft() for _ in range(n)]
        try:
            self.store.apply(batch)
        except StoreError as exc:
            queue.extendleft(reversed(batch))
            self._report_failure(exc)
            return False
        except Exception as exc:  # a bug must not lose the batch either
            queue.extendleft(reversed(batch))
            self._report_failure(exc)
            return False
        if self._failing_since is not None:
            logger.warning(
                "Recording runs works again; %d pending events written.", len(batch)
            )
            self._failing_since = None
        return True

    def _report_failure(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._failing_since is None or now - self._failing_since > 60:
            logger.error(
                "Could not record %d run events: %s. They are kept in memory and "
                "retried.",
                len(self._queue),
                exc,
            )
            self._failing_since = now
