"""Notifications in the flow's own process: evaluating automations when a run ends,
queueing hooks' messages, and delivering them from a background thread.

Embedded mode (no server): when a flow run reaches its final state, the engine calls
:func:`flow_run_finished`, which checks (one cached query, answered by the store
when it opened) whether any automation is enabled; if so, a background thread
evaluates the automations for that run, queues the messages in the database's outbox
and delivers them. The run's return is not delayed. At exit the thread is given
``CADENZA_NOTIFY_FLUSH_TIMEOUT`` seconds to finish; what it did not deliver stays in
the outbox, for any later process or a server to deliver.

With ``CADENZA_API_URL`` set, the server evaluates the automations; hooks' requests
are posted to it from the background thread, which tries again while the server is
unreachable, up to the same bound at exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadenza.notify.records import RunNotification
    from cadenza.reporting.base import Reporter
    from cadenza.runs import FlowRun
    from cadenza.states import State

logger = logging.getLogger("cadenza.notify")

AUTOMATIONS_CACHE_SECONDS = 5.0
"""How long the answer to "is any automation enabled?" is reused."""
_JOB_ATTEMPTS = 8
_JOB_MAX_DELAY = 5.0
_IDLE_WAIT = 60.0
_DEFAULT_FLUSH_TIMEOUT = 10.0

_lock = threading.Lock()
_notifiers: dict[str, Notifier] = {}
_has_automations: dict[str, tuple[float, bool]] = {}
_atexit_registered = False

Job = Callable[[Any], None]


class Notifier:
    """A background thread running jobs against a store, then delivering its outbox.

    Args:
        open_store: returns the store (called for each round, so that a store that
            was closed and opened again is picked up).
        deliver: deliver the outbox after each round (False for a server's client,
            whose server delivers).
    """

    def __init__(
        self,
        open_store: Callable[[], Any],
        *,
        deliver: bool,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._open_store = open_store
        self._on_close = on_close
        self._deliver = deliver
        self._jobs: deque[tuple[Job, int]] = deque()
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._idle = True
        self._closed = False
        self._thread: threading.Thread | None = None
        self._next_due: float | None = None

    def submit(self, job: Job) -> None:
        """Run ``job(store)`` in the background (never blocks, never raises)."""
        with self._cond:
            self._jobs.append((job, 0))
            self._idle = False
        self._ensure_thread()
        self._wake.set()

    def wake(self) -> None:
        """Deliver what is due now (after messages were queued elsewhere)."""
        with self._cond:
            self._idle = False
        self._ensure_thread()
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait until the jobs are done and no message is due within ``timeout``
        seconds (retries due later are left in the outbox); True when that happened
        in time."""
        if self._thread is None:
            return True
        self._wake.set()
        deadline = time.monotonic() + timeout
        wall_deadline = time.time() + timeout
        with self._cond:
            while True:
                if self._idle and (self._next_due is None or self._next_due > wall_deadline):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)

    def close(self, timeout: float) -> bool:
        done = self.flush(timeout)
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._on_close is not None:
            self._on_close()
        return done

    def pending_jobs(self) -> int:
        return len(self._jobs)

    # -- the thread ----------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with _lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="cadenza-notifier", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.clear()
            with self._cond:
                self._idle = False
            wait = self._round()
            with self._cond:
                if not self._jobs and wait is not None:
                    self._idle = True
                    self._cond.notify_all()
            if wait is None:
                continue
            self._wake.wait(wait)

    def _round(self) -> float | None:
        """Run the jobs and deliver; returns how long to sleep, or None to go again."""
        try:
            store = self._open_store()
        except Exception:
            logger.warning(
                "Notifications: the store cannot be opened; trying again.", exc_info=True
            )
            return 1.0
        failed_jobs = self._run_jobs(store)
        if not self._deliver:
            return _JOB_MAX_DELAY if failed_jobs else _IDLE_WAIT
        try:
            from cadenza.notify.delivery import Sender

            if Sender(store).deliver_due(limit=200):
                return None  # more may be due
            next_due = self._next_due = store.next_due()
        except Exception:
            logger.warning(
                "Notifications: delivering the outbox failed; trying again.", exc_info=True
            )
            return _JOB_MAX_DELAY
        if failed_jobs:
            return _JOB_MAX_DELAY
        if next_due is None:
            return _IDLE_WAIT
        return min(max(next_due - time.time(), 0.01), _IDLE_WAIT)

    def _run_jobs(self, store: Any) -> bool:
        """Run every queued job once; a failing job is queued again a few times."""
        retry: list[tuple[Job, int]] = []
        while True:
            with self._cond:
                if not self._jobs:
                    break
                job, tries = self._jobs.popleft()
            try:
                job(store)
            except Exception as exc:
                if tries + 1 < _JOB_ATTEMPTS:
                    retry.append((job, tries + 1))
                    logger.warning("Notifications: %s; trying again.", _describe(exc))
                else:
                    logger.error(
                        "Notifications: gave up after %d attempts: %s", tries + 1, _describe(exc)
                    )
        if retry:
            with self._cond:
                self._jobs.extendleft(reversed(retry))
        return bool(retry)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# -- the process's notifiers ------------------------------------------------------------
def _notifier(
    key: str,
    open_store: Callable[[], Any],
    *,
    deliver: bool,
    on_close: Callable[[], None] | None = None,
) -> Notifier:
    global _atexit_registered
    found = _notifiers.get(key)
    if found is not None:
        return found
    with _lock:
        found = _notifiers.get(key)
        if found is None:
            found = _notifiers[key] = Notifier(open_store, deliver=deliver, on_close=on_close)
        if not _atexit_registered:
            atexit.register(_flush_at_exit)
            _atexit_registered = True
    return found


def embedded_notifier(url: str) -> Notifier:
    """The notifier of the database at ``url``."""

    def open_store() -> Any:
        from cadenza.store import get_store

        return get_store(url)

    return _notifier(url, open_store, deliver=True)


def remote_notifier(api_url: str, api_key: str | None) -> Notifier:
    """The notifier posting hooks' requests to the server at ``api_url``."""
    client: list[Any] = []

    def open_store() -> Any:
        if not client:
            from cadenza.client.http_notify import HttpNotificationStore

            client.append(HttpNotificationStore(api_url, api_key))
        return client[0]

    def close() -> None:
        while client:
            client.pop().close()

    return _notifier("api:" + api_url, open_store, deliver=False, on_close=close)


def has_enabled_automations(store: Any) -> bool:
    """Whether the store has an enabled automation, asked at most every few seconds."""
    url = getattr(store, "url", "")
    now = time.monotonic()
    cached = _has_automations.get(url)
    if cached is not None and cached[0] > now:
        return cached[1]
    answer = bool(store.has_enabled_automations())
    _has_automations[url] = (now + AUTOMATIONS_CACHE_SECONDS, answer)
    return answer


def remember_automations(url: str, enabled: bool) -> None:
    """Take the answer for the store at ``url`` from the store itself, which read it
    (or created the empty database) while it opened: the first runs to finish in a
    process do not ask again."""
    _has_automations[url] = (time.monotonic() + AUTOMATIONS_CACHE_SECONDS, enabled)


def forget_automations_cache() -> None:
    """Ask the database again at the next run's end (after automations changed)."""
    _has_automations.clear()


def flow_run_finished(flow_run: FlowRun, state: State, reporter: Reporter) -> None:
    """Called by the engine when a flow run has reached its final state, after the
    state is durable. Cheap when no automation is enabled; never raises."""
    try:
        store = getattr(reporter, "store", None)
        if store is None or not hasattr(store, "has_enabled_automations"):
            return  # reporting to a server: the server evaluates its automations
        if not has_enabled_automations(store):
            return
        run_id, timestamp = flow_run.id, state.timestamp
        embedded_notifier(store.url).submit(lambda s: evaluate_run(s, run_id, timestamp))
    except Exception:
        logger.warning("Notifications: could not evaluate the automations.", exc_info=True)


def evaluate_run(store: Any, flow_run_id: str, timestamp: float) -> None:
    """Queue the messages of the enabled automations for the run's state at ``timestamp``."""
    from cadenza.notify.evaluate import plan_automations

    run = store.read_flow_run(flow_run_id)
    if run is None:
        return
    states = [s for s in run.history or () if s.timestamp == timestamp]
    if not states and run.state is not None:
        states = [run.state]
    messages = plan_automations(store, run, states, store.list_automations(enabled_only=True))
    if messages:
        store.enqueue(messages)


def submit_request(request: RunNotification) -> None:
    """Queue a hook's request: into the database's outbox, or to the server."""
    from cadenza.reporting import get_reporter

    reporter = get_reporter()
    store = getattr(reporter, "store", None)
    if store is not None and hasattr(store, "notify_run"):
        embedded_notifier(store.url).submit(lambda s: s.notify_run(request))
        return
    from cadenza.settings import get_settings

    settings = get_settings()
    if not settings.api_url:
        raise RuntimeError("neither a database nor a server to notify through")
    remote_notifier(settings.api_url, settings.api_key).submit(lambda s: s.notify_run(request))


def flush(timeout: float | None = None) -> bool:
    """Wait for the notifiers of this process: their jobs done and nothing due now.

    Returns True when they all finished within ``timeout`` seconds (default
    ``CADENZA_NOTIFY_FLUSH_TIMEOUT``). What is not delivered stays in the outbox.
    """
    if not _notifiers:
        return True
    if timeout is None:
        from cadenza.settings import get_settings

        try:
            timeout = get_settings().notify_flush_timeout
        except (TypeError, ValueError):  # a bad setting, reported where it is used
            timeout = _DEFAULT_FLUSH_TIMEOUT
    deadline = time.monotonic() + timeout
    done = True
    for notifier in list(_notifiers.values()):
        done = notifier.flush(max(deadline - time.monotonic(), 0.0)) and done
    return done


def stop_notifiers(timeout: float | None = None) -> None:
    """Flush then stop every notifier (when the settings or stores are reset)."""
    flush(timeout)
    with _lock:
        notifiers = list(_notifiers.values())
        _notifiers.clear()
        _has_automations.clear()
    for notifier in notifiers:
        notifier.close(0)


def _flush_at_exit() -> None:
    pending = sum(n.pending_jobs() for n in _notifiers.values())
    if not flush():
        logger.warning(
            "Notifications not finished at exit (%d request(s) not queued yet); what is "
            "queued stays in the outbox and is delivered later.",
            pending,
        )
