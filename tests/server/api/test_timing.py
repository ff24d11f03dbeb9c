"""The ``Server-Timing`` header on every response: the time the server spent."""

from __future__ import annotations

import time

import pytest

from cadenza.server import timing
from tests.server.api.conftest import LiveServer


def _duration(value: str) -> float:
    duration = timing.parse_duration_ms(value)
    assert duration is not None, value
    return duration


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("GET", "/api/flow_runs", 200),
        ("GET", "/api/flow_runs/count?state=FAILED", 200),
        ("GET", "/api/flow_runs/no-such-run", 404),
        ("GET", "/api/flow_runs?limit=0", 400),
        ("GET", "/api/nowhere", 404),
        ("POST", "/api/events", 200),
    ],
)
def test_every_response_says_how_long_the_server_took(
    served: LiveServer, method: str, path: str, status: int
) -> None:
    with served.client() as client:
        client.get("/health")  # the connection is open: the next request is timed alone
        started = time.perf_counter()
        response = client.request(
            method, served.url + path, json={"events": []} if method == "POST" else None
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == status, response.text
    assert response.headers["server-timing"].startswith("app;dur=")
    # The server's part of the request cannot be longer than what the client waited
    # (the server runs in this process: one clock).
    assert 0 <= _duration(response.headers["server-timing"]) <= elapsed_ms


def test_the_duration_runs_from_the_request_to_the_response(
    served: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter([500.0, 500.0125])
    monkeypatch.setattr(timing, "_clock", lambda: next(ticks))
    with served.client() as client:
        response = client.get("/flow_runs/count")
    assert response.status_code == 200
    assert response.headers["server-timing"] == "app;dur=12.500"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("app;dur=4.217", 4.217),
        ('db;dur=1.5, app;desc="all of it";dur=3', 3.0),
        ("app", None),
        ("app;dur=soon", None),
        ("db;dur=2", None),
        ("", None),
    ],
)
def test_parse_duration(value: str, expected: float | None) -> None:
    assert timing.parse_duration_ms(value) == expected
