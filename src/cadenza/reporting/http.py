"""Reporting to a cadenza server: events sent in batches over HTTP from a thread.

The engine's events are queued in memory exactly as in embedded mode; a daemon
thread encodes them to their JSON form (:mod:`cadenza.events_json`) and posts them
to ``POST /api/events`` in bounded batches, on one keep-alive connection.

Delivery, case by case:

* The server cannot be reached, times out, or answers 5xx, 408 or 429: the batch
  is kept and sent again, unchanged, after a pause that doubles with each failure
  (with jitter, at most a few seconds; ``Retry-After`` is honoured up to that
  bound). The run goes on meanwhile. The server records a batch delivered twice
  once, so a batch whose response was lost is simply sent again.
* The server refuses the batch itself (400, 413, 422 and other 4xx): the events
  it names as invalid are dropped and logged; the valid ones are sent again in
  smaller batches (the batch is split until the invalid events are alone).
* 401 or 403 (API key), 404 or 405 (not a cadenza server): the events are kept and
  retried, and the error is logged, naming what to set.
* :meth:`HttpReporter.flush` waits a bounded time for an unreachable server, then
  returns False with the events still queued; :meth:`HttpReporter.close`, called
  at exit, tries once more for the same time and logs how many events it could
  not deliver.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

import httpx

from cadenza.events import Event
from cadenza.events_json import encode_event
from cadenza.exceptions import CadenzaError
from cadenza.reporting.base import Reporter

logger = logging.getLogger("cadenza.reporting")

MAX_BATCH_EVENTS = 5_000
"""Events in one request at most."""
MAX_BATCH_BYTES = 4 * 1024 * 1024
"""Bytes of JSON in one request at most (a batch holds at least one event)."""
_MIN_BATCH_BYTES = 64 * 1024
_FIRST_RETRY_DELAY = 0.05
_MAX_RETRY_DELAY = 3.0
"""Seconds between two attempts at most, while delivery fails."""
_SHORT_FLUSH = 1.0
"""Seconds a flush waits while the server has been unreachable through a whole
flush already (so that every subflow run does not wait the full bound again)."""
_LOG_EVERY = 60.0
"""Seconds between two log lines about the same ongoing failure."""
_REQUEST_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
_EVENT_INDEX = re.compile(r"^event (\d+):")

# The C encoder, built once; values JSON cannot hold are sent as their repr, as the
# embedded store writes them.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)

if _c_make_encoder is not None:
    _encoder = _c_make_encoder(
        None, repr, encode_basestring_ascii, None, ":", ",", False, False, True
    )

    def _dumps(value: Any) -> str:
        return "".join(_encoder(value, 0))
else:  # pragma: no cover
    _json_encoder = json.JSONEncoder(separators=(",", ":"), default=repr)

    def _dumps(value: Any) -> str:
        return _json_encoder.encode(value)


def _plain(value: Any) -> Any:
    """``value`` with every mapping key a string, as JSON requires."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _encode(event: Event) -> str:
    """One event's JSON text."""
    body = encode_event(event)
    try:
        return _dumps(body)
    except (TypeError, ValueError):  # keys JSON cannot hold, somewhere deep
        return _dumps(_plain(body))


class _Retry(Exception):
    """Delivery of the first batch failed in a way that sending again can cure."""


def normalize_api_url(url: str) -> str:
    """The server's base URL: no trailing slash, no trailing ``/api``.

    ``http://host:4200`` and ``http://host:4200/api`` (the form Prefect's
    ``PREFECT_API_URL`` takes) name the same server.

    Raises:
        CadenzaError: ``url`` is not an http(s) URL.
    """
    text = url.strip().rstrip("/")
    if not text.lower().startswith(("http://", "https://")):
        raise CadenzaError(
            f"CADENZA_API_URL={url!r} is not the URL of a cadenza server; "
            "give one like http://127.0.0.1:4200."
        )
    if text.endswith("/api"):
        text = text[: -len("/api")]
    return text


class HttpReporter(Reporter):
    """Sends events to a cadenza server in batches, from a background thread.

    ``emit`` appends to a deque (no lock, no I/O, no encoding). A daemon thread
    wakes every ``interval`` seconds, encodes what has accumulated and posts it in
    batches of at most :data:`MAX_BATCH_EVENTS` events and :data:`MAX_BATCH_BYTES`
    bytes; :meth:`flush` sends synchronously. One lock serializes senders, so
    batches arrive in the order the events were emitted. A batch that could not be
    delivered stays first in line, unchanged, and is sent again (see the module's
    documentation for each kind of failure): events are lost only if the process
    ends before the server is reachable again, and then the number lost is logged.

    A process forked from this one starts with an empty queue (the events emitted
    before the fork are the parent's to send), a lock and a connection of its own.

    Args:
        api_url: the server's URL (``CADENZA_API_URL``), with or without ``/api``.
        api_key: sent as ``Authorization: Bearer <key>`` when given (``CADENZA_API_KEY``).
        interval: seconds between two background sends.
        flush_timeout: seconds :meth:`flush` (without a timeout) and :meth:`close`
            keep retrying an unreachable server before giving up.
        check_timeout: seconds :meth:`check` keeps trying to reach the server.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        interval: float = 0.1,
        *,
        flush_timeout: float = 30.0,
        check_timeout: float = 3.0,
    ) -> None:
        self.api_url = normalize_api_url(api_url)
        self._api_key = api_key or None
        self._interval = interval
        self._flush_timeout = flush_timeout
        self._check_timeout = check_timeout
        self._queue: deque[Event] = deque()
        # Encoded batches taken from the queue and not delivered yet, first in line
        # first. Only the holder of the send lock touches it.
        self._inflight: deque[list[str]] = deque()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._checked = False
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._max_bytes = MAX_BATCH_BYTES
        self._failures = 0
        self._failing_since: float | None = None
        self._last_failure_log = 0.0
        self._last_error = ""
        self._gave_up = False
        self._dropped_unlogged = 0
        self._last_drop_log = 0.0
        self._retry_after: float | None = None
        self.delivered = 0
        """Events the server acknowledged."""
        self.dropped = 0
        """Events the server refused as invalid (or that could not be encoded)."""
        self.failed_attempts = 0
        """Sends that failed and were retried (server unreachable, 5xx...)."""
        self.emit = self._queue.append  # type: ignore[method-assign,assignment]
        _instances.add(self)

    # -- Reporter ----------------------------------------------------------------------
    def emit(self, event: Event) -> None:  # replaced per instance by deque.append
        self._queue.append(event)

    def check(self) -> None:
        """Make sure the server answers and accepts this client's key (once).

        Raises:
            CadenzaError: the server could not be reached within ``check_timeout``
                seconds, is not a cadenza server, or refuses the API key.
        """
        if not self._checked:
            self._check_server()
            self._checked = True
        self._ensure_thread()

    def flush(self, timeout: float | None = None) -> bool:
        """Send every event emitted before the call.

        Without ``timeout``, waits at most ``flush_timeout`` seconds for an
        unreachable server (and at most a second while a previous flush has already
        waited that long in vain and the server is still unreachable). Returns False
        when events emitted before the call are still undelivered; they stay queued.
        """
        if timeout is None:
            timeout = self._flush_timeout
            if self._gave_up:
                timeout = min(timeout, _SHORT_FLUSH)
        deadline = time.monotonic() + timeout
        if not self._send_lock.acquire(timeout=max(timeout, 0.0)):
            return False
        try:
            # The events emitted before this call are the batches in flight and the
            # first len(queue) queued ones: the queue is first in, first out, and
            # only the holder of the lock takes from it.
            take = len(self._queue)
            while True:
                take = self._pump(take, deadline)
                if take < 0:
                    self._gave_up = False
                    return True
                now = time.monotonic()
                if now >= deadline:
                    self._gave_up = True
                    return False
                time.sleep(min(self._retry_delay(), deadline - now))
        finally:
            self._send_lock.release()

    def close(self) -> None:
        """Stop the background thread, try once more to deliver what is queued (for
        ``flush_timeout`` seconds at most), and log how many events were not."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self._flush_timeout
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=min(1.0, self._flush_timeout))
        self.flush(timeout=max(deadline - time.monotonic(), 0.0))
        left = self.pending
        if left:
            logger.error(
                "%d run events could not be delivered to the cadenza server at %s and "
                "are lost; last error: %s.",
                left,
                self.api_url,
                self._last_error or "no answer in time",
            )
        self._log_dropped()
        http, self._http = self._http, None
        if http is not None:
            http.close()

    @property
    def pending(self) -> int:
        """Events not delivered yet (queued or in a batch being sent)."""
        return len(self._queue) + sum(len(b) for b in list(self._inflight))

    # -- the connection ----------------------------------------------------------------
    @property
    def _client(self) -> httpx.Client:
        http = self._http
        if http is None:
            headers = {"User-Agent": "cadenza"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            http = self._http = httpx.Client(
                base_url=self.api_url,
                headers=headers,
                timeout=_REQUEST_TIMEOUT,
                follow_redirects=True,
                limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
            )
        return http

    def _timeout(self, deadline: float | None) -> httpx.Timeout:
        if deadline is None:
            return _REQUEST_TIMEOUT
        left = max(deadline - time.monotonic(), 0.1)
        return httpx.Timeout(min(20.0, left), connect=min(5.0, left))

    def cancel_requested(self, flow_run_id: str) -> bool:
        try:
            response = self._client.get(f"/api/flow_runs/{flow_run_id}", timeout=5.0)
            if response.status_code != 200:
                return False
            history = response.json().get("history") or []
        except Exception:
            return False
        return any(isinstance(s, dict) and s.get("type") == "CANCELLING" for s in history)

    # -- check ---------------------------------------------------------------------------
    def _check_server(self) -> None:
        deadline = time.monotonic() + self._check_timeout
        failures = 0
        while True:
            answered = True
            try:
                reason = self._check_once(deadline)
            except httpx.TransportError as exc:
                reason = _describe(exc)
                answered = False
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise CadenzaError(
                    f"Cannot use the cadenza server at {self.api_url} (CADENZA_API_URL): {exc}"
                ) from None
            if reason is None:
                return
            failures += 1
            now = time.monotonic()
            if now >= deadline:
                if answered:
                    raise CadenzaError(
                        f"The cadenza server at {self.api_url} (CADENZA_API_URL) cannot "
                        f"record runs now: {reason}. Check the server's log, or unset "
                        "CADENZA_API_URL to record runs in the local database."
                    )
                raise CadenzaError(
                    f"Cannot reach the cadenza server at {self.api_url} (CADENZA_API_URL): "
                    f"{reason}. Start it with `cadenza server start`, or unset "
                    "CADENZA_API_URL to record runs in the local database."
                )
            time.sleep(min(_backoff(failures), deadline - now))

    def _check_once(self, deadline: float) -> str | None:
        """One attempt: None when the server is usable, a reason to retry otherwise;
        raises what retrying cannot cure."""
        client = self._client
        timeout = self._timeout(deadline)
        health = client.get("/api/health", timeout=timeout)
        if health.status_code in (401, 403):
            raise CadenzaError(self._key_message())
        if _transient(health.status_code):
            return f"it answered {health.status_code}: {_server_message(health)}"
        if health.status_code != 200:
            raise CadenzaError(
                f"{self.api_url} does not look like a cadenza server: GET /api/health "
                f"answered {health.status_code} ({_server_message(health)}). "
                "Check CADENZA_API_URL."
            )
        # The health route is open to all; an empty batch of events checks the key.
        probe = client.post("/api/events", json={"events": []}, timeout=timeout)
        if probe.status_code in (401, 403):
            raise CadenzaError(self._key_message())
        if _transient(probe.status_code):
            return f"it answered {probe.status_code}: {_server_message(probe)}"
        if not probe.is_success:
            raise CadenzaError(
                f"The cadenza server at {self.api_url} does not accept run events: "
                f"POST /api/events answered {probe.status_code} ({_server_message(probe)}). "
                "It may be of an older version than this client."
            )
        return None

    def _key_message(self) -> str:
        if self._api_key:
            return (
                f"The cadenza server at {self.api_url} refused the API key in "
                "CADENZA_API_KEY: set CADENZA_API_KEY to the key the server was started "
                "with (its CADENZA_SERVER_API_KEY)."
            )
        return (
            f"The cadenza server at {self.api_url} requires an API key: set "
            "CADENZA_API_KEY to the key it was started with (its CADENZA_SERVER_API_KEY)."
        )

    # -- sending ----------------------------------------------------------------------------
    def _pump(self, take: int, deadline: float | None) -> int:
        """Deliver the batches in flight, then batches of at least the first ``take``
        queued events; call with the send lock held.

        Returns -1 when all of them are delivered (or dropped as invalid), otherwise
        how many of the ``take`` events are still to be taken from the queue (the
        first batch in flight is then undeliverable for now).
        """
        inflight = self._inflight
        while True:
            if not inflight:
                if take <= 0 or not self._queue:
                    return -1
                take = max(take - self._take_batch(), 0)
                continue
            try:
                self._send_first(deadline)
            except _Retry as exc:
                self._note_failure(str(exc))
                return take

    def _take_batch(self) -> int:
        """Encode the first queued events into a new batch in flight; returns how
        many events were taken from the queue."""
        queue = self._queue
        popleft = queue.popleft
        events = [popleft() for _ in range(min(len(queue), MAX_BATCH_EVENTS))]
        limit = self._max_bytes
        parts: list[str] = []
        size = 0
        taken = 0
        try:
            for event in events:
                try:
                    part = _encode(event)
                except Exception as exc:
                    taken += 1
                    self._drop(f"it could not be encoded ({exc!r}): {event!r:.200}")
                    continue
                if parts and size + len(part) > limit:
                    break
                taken += 1
                parts.append(part)
                size += len(part) + 1
        except BaseException:
            # Ctrl-C while encoding in a flush: nothing is lost.
            queue.extendleft(reversed(events))
            raise
        if taken < len(events):
            queue.extendleft(reversed(events[taken:]))
        if parts:
            self._inflight.append(parts)
        return taken

    def _send_first(self, deadline: float | None) -> None:
        """Send the first batch in flight; on success or refusal it leaves the line.

        Raises:
            _Retry: it could not be delivered now; it stays first in line.
        """
        batch = self._inflight[0]
        body = ('{"events":[' + ",".join(batch) + "]}").encode("ascii")
        try:
            response = self._client.post(
                "/api/events",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=self._timeout(deadline),
            )
        except httpx.TransportError as exc:
            raise _Retry(_describe(exc)) from None
        except Exception as exc:  # never let the sender die; the batch is kept
            raise _Retry(f"{type(exc).__name__}: {exc}") from None
        status = response.status_code
        if response.is_success:
            self._inflight.popleft()
            self.delivered += len(batch)
            self._note_success()
            return
        message = _server_message(response)
        if _transient(status):
            self._retry_after = _retry_after(response)
            raise _Retry(f"it answered {status}: {message}")
        if status in (401, 403):
            raise _Retry(self._key_message())
        if status in (404, 405) or 300 <= status < 400:
            raise _Retry(
                f"POST {self.api_url}/api/events answered {status} ({message}); "
                "is CADENZA_API_URL the address of a cadenza server of this version?"
            )
        # The server refused this batch: it is reachable, and sending the same batch
        # again cannot help. Keep the events it did not refuse.
        self._note_success()
        if status == 413:
            self._max_bytes = max(_MIN_BATCH_BYTES, len(body) // 2)
        self._split_refused(message, status)

    def _split_refused(self, message: str, status: int) -> None:
        """Replace the refused first batch by the parts of it still worth sending."""
        batch = self._inflight.popleft()
        if len(batch) == 1:
            self._drop(f"the server answered {status}: {message}: {batch[0]:.300}")
            return
        # The server names the first invalid event when the batch does not decode
        # (the events before it decode): drop that one, send the rest again.
        match = _EVENT_INDEX.match(message)
        index = int(match.group(1)) if match and status != 413 else -1
        if 0 <= index < len(batch):
            self._drop(f"the server answered {status}: {message}: {batch[index]:.300}")
            pieces = [batch[:index], batch[index + 1 :]]
        else:
            # Halve until the refused events are alone: k bad events among n cost
            # about k * log2(n) requests, and every valid event is delivered.
            middle = len(batch) // 2
            pieces = [batch[:middle], batch[middle:]]
        for piece in reversed(pieces):
            if piece:
                self._inflight.appendleft(piece)

    # -- failure bookkeeping ---------------------------------------------------------------
    def _retry_delay(self) -> float:
        delay = _backoff(self._failures)
        after, self._retry_after = self._retry_after, None
        if after is not None:
            delay = min(max(delay, after), _MAX_RETRY_DELAY)
        return delay

    def _note_failure(self, reason: str) -> None:
        self._failures += 1
        self.failed_attempts += 1
        self._last_error = reason = reason.rstrip(".")
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._last_failure_log > _LOG_EVERY or self._failures == 1:
            self._last_failure_log = now
            logger.error(
                "Could not report %d run events to the cadenza server at %s: %s. "
                "They are kept in memory and retried.",
                self.pending,
                self.api_url,
                reason,
            )

    def _note_success(self) -> None:
        self._failures = 0
        self._gave_up = False
        if self._failing_since is not None:
            self._failing_since = None
            logger.warning(
                "Reporting to the cadenza server at %s works again; delivering %d "
                "pending run events.",
                self.api_url,
                self.pending,
            )

    def _drop(self, what: str) -> None:
        self.dropped += 1
        now = time.monotonic()
        if now - self._last_drop_log > 10.0:
            self._last_drop_log = now
            suppressed, self._dropped_unlogged = self._dropped_unlogged, 0
            more = f" ({suppressed} more dropped since the last message)" if suppressed else ""
            logger.error("A run event was not recorded and is dropped: %s%s", what, more)
        else:
            self._dropped_unlogged += 1

    def _log_dropped(self) -> None:
        if self._dropped_unlogged:
            logger.error(
                "%d more run events were refused by the cadenza server at %s and dropped.",
                self._dropped_unlogged,
                self.api_url,
            )
            self._dropped_unlogged = 0

    # -- background sender -----------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="cadenza-sender", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        delay = self._interval
        while not self._closed:
            self._wake.wait(delay)
            self._wake.clear()
            if self._closed:
                break
            ok = True
            if (self._queue or self._inflight) and self._send_lock.acquire(blocking=False):
                try:
                    # What is queued now, not more: a flush waiting for the lock gets
                    # its turn even while events keep coming.
                    ok = self._pump(len(self._queue), None) < 0
                except Exception:  # pragma: no cover - the sender must not die
                    logger.exception("The cadenza event sender failed; retrying.")
                    ok = False
                finally:
                    self._send_lock.release()
            delay = self._interval if ok else max(self._retry_delay(), self._interval)

    def _after_fork_in_child(self) -> None:
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._queue.clear()
        self._inflight.clear()
        # The parent's connections are the parent's: a new client, the old one
        # abandoned without closing what it shares with the parent.
        self._http = None
        self._failures = 0
        self._failing_since = None
        self._gave_up = False
        had_thread = self._thread is not None
        self._thread = None
        if had_thread and not self._closed:
            self._ensure_thread()


def _backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row (with jitter)."""
    delay = min(_MAX_RETRY_DELAY, _FIRST_RETRY_DELAY * 2 ** min(max(failures, 1), 16))
    return delay * random.uniform(0.5, 1.0)


def _transient(status: int) -> bool:
    """Whether sending the same request again later may succeed."""
    return status >= 500 or status in (408, 425, 429)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _server_message(response: httpx.Response) -> str:
    """The message of the server's JSON error, or the start of its answer."""
    try:
        body = response.json()
    except Exception:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({exc})" if str(exc) else "connection failed"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_instances: weakref.WeakSet[HttpReporter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # Locks held by a thread of the parent would never be released in the child.
    for reporter in list(_instances):
        reporter._after_fork_in_child()


_register: Callable[..., None] | None = getattr(os, "register_at_fork", None)
if _register is not None:
    _register(after_in_child=_after_fork_in_child)
