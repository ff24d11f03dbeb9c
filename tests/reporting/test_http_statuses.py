"""How the HTTP reporter answers each kind of server response.

A real cadenza server does not answer 503, 429 or 413 on demand, so these tests
use a small HTTP server that answers ``POST /api/events`` as each test scripts it,
and records every request body it receives.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cadenza.events import Event
from cadenza.reporting.http import HttpReporter
from tests.store import make
from tests.store.make import Clock

Answer = tuple[int, dict[str, Any], dict[str, str]]
"""Status, JSON body and headers of one response."""

OK: Answer = (200, {"received": 0}, {})


class ScriptedServer:
    """Answers each ``POST /api/events`` with ``answer(body)``; keeps the bodies."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.statuses: list[int] = []
        self.answer: Callable[[bytes], Answer] = lambda body: OK
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real server

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, payload, headers = scripted.answer(body)
                scripted.bodies.append(body)
                scripted.statuses.append(status)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def events(self, index: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.bodies[index])["events"]
        return events

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    yield srv
    srv.close()


@pytest.fixture
def reporting_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    logger = logging.getLogger("cadenza.reporting")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def some_events(n_logs: int = 20, size: int = 10) -> list[Event]:
    clock = Clock()
    run = make.flow_run(created=clock())
    events: list[Event] = make.completed(run, clock)
    events += [make.log(run, f"{i:05d} " + "x" * size, timestamp=clock()) for i in range(n_logs)]
    return events


def reporter_for(srv: ScriptedServer, events: list[Event], **options: Any) -> HttpReporter:
    reporter = HttpReporter(srv.url, interval=3600, **options)
    for event in events:
        reporter.emit(event)
    return reporter


@pytest.mark.parametrize(
    "answer",
    [
        (503, {"code": "STORE_UNAVAILABLE", "message": "database is busy"}, {}),
        (429, {"code": "TOO_MANY_REQUESTS", "message": "slow down"}, {"Retry-After": "0"}),
        (502, {"message": "bad gateway"}, {}),
    ],
)
def test_a_busy_server_gets_the_same_batch_again(scripted: ScriptedServer, answer: Answer) -> None:
    answers = iter([answer, answer, OK])
    scripted.answer = lambda body: next(answers)
    events = some_events()
    reporter = reporter_for(scripted, events)
    assert reporter.flush(timeout=10)
    assert scripted.statuses == [answer[0], answer[0], 200]
    # Sent again unchanged: the server records a batch delivered twice once.
    assert scripted.bodies[0] == scripted.bodies[1] == scripted.bodies[2]
    assert len(scripted.events(2)) == len(events)
    assert reporter.failed_attempts == 2
    assert reporter.pending == 0
    reporter.close()


def test_a_refused_api_key_keeps_the_events_and_names_the_setting(
    scripted: ScriptedServer, reporting_log: pytest.LogCaptureFixture
) -> None:
    refuse = True

    def answer(body: bytes) -> Answer:
        return (401, {"code": "UNAUTHENTICATED", "message": "no"}, {}) if refuse else OK

    scripted.answer = answer
    events = some_events()
    reporter = reporter_for(scripted, events, flush_timeout=0.3)
    assert not reporter.flush()
    assert reporter.pending == len(events)
    errors = [r.getMessage() for r in reporting_log.records if r.levelno >= logging.ERROR]
    assert any("CADENZA_API_KEY" in m for m in errors), errors
    refuse = False
    assert reporter.flush(timeout=10)
    assert reporter.pending == 0
    assert len(scripted.events(-1)) == len(events)
    reporter.close()


def test_a_body_too_large_for_the_server_is_split_and_every_event_delivered(
    scripted: ScriptedServer,
) -> None:
    limit = 100_000

    def answer(body: bytes) -> Answer:
        if len(body) > limit:
            return (413, {"code": "PAYLOAD_TOO_LARGE", "message": "too large"}, {})
        return OK

    scripted.answer = answer
    events = some_events(n_logs=2_000, size=200)
    reporter = reporter_for(scripted, events[:500])
    assert reporter.flush(timeout=30)
    assert 413 in scripted.statuses
    phase_two = len(scripted.statuses)
    for event in events[500:]:
        reporter.emit(event)
    assert reporter.flush(timeout=30)
    assert reporter.dropped == 0
    delivered = [
        e for i, status in enumerate(scripted.statuses) if status == 200 for e in scripted.events(i)
    ]
    messages = [e["entry"]["message"][:5] for e in delivered if e["kind"] == "log"]
    assert messages == [f"{i:05d}" for i in range(2_000)]  # all, once, in order
    assert len(delivered) == len(events)
    # After a refusal, new batches are made small enough from the start.
    assert set(scripted.statuses[phase_two:]) == {200}
    reporter.close()


def test_batches_are_bounded_in_events(scripted: ScriptedServer) -> None:
    events = some_events(n_logs=12_000)
    reporter = reporter_for(scripted, events)
    assert reporter.flush(timeout=30)
    sizes = [len(scripted.events(i)) for i in range(len(scripted.bodies))]
    assert sum(sizes) == len(events)
    assert max(sizes) == 5_000
    reporter.close()


def test_an_api_key_is_sent_as_a_bearer_token(scripted: ScriptedServer) -> None:
    seen: list[str] = []
    handler = scripted.httpd.RequestHandlerClass
    original = handler.do_POST  # type: ignore[attr-defined]

    def do_post(self: BaseHTTPRequestHandler) -> None:
        seen.append(self.headers.get("Authorization", ""))
        original(self)

    handler.do_POST = do_post  # type: ignore[attr-defined]
    reporter = reporter_for(scripted, some_events(), api_key="k3y")
    assert reporter.flush(timeout=10)
    assert seen == ["Bearer k3y"]
    reporter.close()
