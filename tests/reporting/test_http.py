"""Reporting to a real cadenza server over HTTP (CADENZA_API_URL).

The server runs in a subprocess (uvicorn on 127.0.0.1, its own SQLite file) so that
a test can kill it and start it again; its database is read with the sqlite3
module, as another program would.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadenza import (
    create_markdown_artifact,
    create_table_artifact,
    flow,
    get_run_logger,
    task,
)
from cadenza.events import Event, TaskRunCreated
from cadenza.exceptions import CadenzaError
from cadenza.reporting import get_reporter, reset_reporter
from cadenza.reporting import http as http_reporting
from cadenza.reporting.embedded import EmbeddedReporter
from cadenza.reporting.http import HttpReporter, normalize_api_url
from cadenza.settings import reset_settings
from tests.reporting.conftest import Query
from tests.reporting.live_server import LiveServer, free_port
from tests.store import make
from tests.store.make import Clock

RunScript = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path / "server")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def use_server(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``use_server(url, key=None)``: report to that server from now on."""

    def use(url: str, key: str | None = None, **env: str) -> None:
        reset_reporter()
        monkeypatch.setenv("CADENZA_API_URL", url)
        if key is None:
            monkeypatch.delenv("CADENZA_API_KEY", raising=False)
        else:
            monkeypatch.setenv("CADENZA_API_KEY", key)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()

    return use


@pytest.fixture
def reporting_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """What the reporter logs (cadenza's loggers do not propagate once set up)."""
    logger = logging.getLogger("cadenza.reporting")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


# -- what a flow records ------------------------------------------------------------------
attempts: dict[int, int] = {}


@task(retries=2, retry_delay_seconds=0)
def flaky(x: int) -> int:
    attempts[x] = attempts.get(x, 0) + 1
    if attempts[x] < 2:
        raise ValueError(f"first try of {x} fails")
    return x


@task
def square(x: int) -> int:
    get_run_logger().info("squaring %d", x)
    return x * x


@flow(flow_run_name="inner-{n}")
def inner(n: int) -> int:
    create_markdown_artifact("# inner report", key="inner-report")
    return sum(square.map(range(n)).result())


@flow(flow_run_name="outer", log_prints=True)
def outer() -> int:
    print("starting")
    a = flaky(3)
    b = inner(4)
    create_table_artifact([{"a": 1, "b": "x"}], key="summary")
    get_run_logger().warning("done with %d", a + b)
    return a + b


def names(history: str | None) -> list[str]:
    """The state names of a stored history (NULL stands for the plain path)."""
    if history is None:
        return ["Pending", "Running", "Completed"]
    return [s["name"] for s in json.loads(history)]


def snapshot(query: Query) -> dict[str, Any]:
    """What the database holds about runs, without ids and timestamps."""
    return {
        "flow_runs": sorted(
            (name, parameters, state, tuple(names(h)))
            for name, parameters, state, h in query(
                "SELECT name, parameters, state_name, history FROM flow_runs"
            )
        ),
        "task_runs": sorted(
            (name, kind, state, run_count, tuple(names(h)))
            for name, kind, state, run_count, h in query(
                "SELECT name, kind, state_name, run_count, history FROM task_runs"
            )
        ),
        "logs": sorted(query("SELECT level, name, message FROM logs")),
        "artifacts": sorted(query("SELECT key, type, data FROM artifacts")),
    }


def test_a_flow_reported_to_a_server_records_what_it_records_locally(
    server: LiveServer, query: Query, use_server: Callable[..., None]
) -> None:
    attempts.clear()
    assert outer() == 3 + 14
    reset_reporter()
    local = snapshot(query)
    assert len(local["task_runs"]) == 6  # flaky, the subflow's slot, 4 squares
    assert len(local["logs"]) >= 10
    assert len(local["artifacts"]) == 2

    use_server(server.url)
    attempts.clear()
    assert outer() == 3 + 14
    # No flush, no wait: the flow call returns once its runs are on the server.
    remote = snapshot(server.query)
    assert remote == local
    assert isinstance(get_reporter(), HttpReporter)
    assert get_reporter().pending == 0
    assert ("outer", "{}", "Completed", ("Pending", "Running", "Completed")) in remote["flow_runs"]
    retried = ("Pending", "Running", "AwaitingRetry", "Retrying", "Completed")
    assert ("flaky-0", "task", "Completed", 2, retried) in remote["task_runs"]


# -- the server goes away -----------------------------------------------------------------
@task
def slow_step(i: int) -> int:
    time.sleep(0.08)
    get_run_logger().info("step %d", i)
    return i


@flow(flow_run_name="long")
def long_flow(n: int) -> int:
    return sum(slow_step(i) for i in range(n))


def test_a_server_restarted_mid_run_gets_every_event_once(
    server: LiveServer, use_server: Callable[..., None]
) -> None:
    use_server(server.url)
    n = 30
    results: list[int] = []
    runner = threading.Thread(target=lambda: results.append(long_flow(n)))
    runner.start()
    query = server.query
    assert wait_until(
        lambda: query.count("task_runs") >= 3 and query.count("logs") >= 3, timeout=10
    )
    server.kill()
    killed_at = query.count("task_runs")
    time.sleep(0.3)
    server.start()
    runner.join(timeout=30)
    assert not runner.is_alive()
    assert results == [sum(range(n))]
    reporter = get_reporter()
    assert isinstance(reporter, HttpReporter)
    assert reporter.failed_attempts > 0  # events waited for the server
    assert killed_at < n

    assert query("SELECT name, state_name FROM flow_runs") == [("long", "Completed")]
    histories = query("SELECT name, history FROM task_runs ORDER BY name")
    assert len(histories) == n
    for _name, history in histories:
        assert names(history) == ["Pending", "Running", "Completed"]
    steps = query("SELECT message FROM logs WHERE message LIKE 'step %' ORDER BY timestamp")
    assert steps == [(f"step {i}",) for i in range(n)]
    dupes = query("SELECT message, count(*) FROM logs GROUP BY 1, timestamp HAVING count(*) > 1")
    assert dupes == []
    assert reporter.pending == 0


class AnswerLosingProxy:
    """Passes requests on to a server, and loses the answers to the first ``lose``
    batches of events: the server records them, the client sees the connection
    close."""

    def __init__(self, target: str, lose: int) -> None:
        self.lose = lose
        self.lost = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED_HEADERS}
                answer = httpx.request(
                    method, target + self.path, content=body, headers=headers, timeout=20
                )
                batch = method == "POST" and bool(json.loads(body or b"{}").get("events"))
                if batch and proxy.lost < proxy.lose:
                    proxy.lost += 1
                    self.close_connection = True  # no answer at all
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_FORWARDED_HEADERS = {"content-type", "authorization"}


def test_a_batch_whose_answer_was_lost_is_sent_again_and_recorded_once(
    server: LiveServer, use_server: Callable[..., None]
) -> None:
    proxy = AnswerLosingProxy(server.url, lose=3)
    try:
        use_server(proxy.url)
        assert long_flow(5) == 10
        assert proxy.lost == 3
        reporter = get_reporter()
        assert isinstance(reporter, HttpReporter)
        assert reporter.failed_attempts == 3
    finally:
        proxy.close()
    query = server.query
    [(name, state, history)] = query("SELECT name, state_name, history FROM flow_runs")
    assert (name, state) == ("long", "Completed")
    assert names(history) == ["Pending", "Running", "Completed"]
    for _name, history in query("SELECT name, history FROM task_runs"):
        assert names(history) == ["Pending", "Running", "Completed"]
    assert query.count("task_runs") == 5
    steps = query("SELECT message FROM logs WHERE message LIKE 'step %' ORDER BY timestamp")
    assert steps == [(f"step {i}",) for i in range(5)]
    assert query("SELECT message FROM logs GROUP BY 1, timestamp HAVING count(*) > 1") == []


_ORPHAN = """
import os, re, signal, sys, time

from cadenza import flow, get_run_logger, task
from cadenza.reporting import get_reporter

SERVER_PID = int(sys.argv[1])


@task
def step(i):
    get_run_logger().info("step %d", i)
    return i


@task
def kill_server():
    os.kill(SERVER_PID, signal.SIGKILL)


@flow(flow_run_name="orphan")
def orphan():
    step(0)
    kill_server()
    time.sleep(0.3)
    return sum(step(i) for i in range(1, 10))


@flow
def small():
    return step(99)


start = time.monotonic()
print("result", orphan(), "seconds", round(time.monotonic() - start, 2), flush=True)
start = time.monotonic()
print("small", small(), "seconds", round(time.monotonic() - start, 2), flush=True)
start = time.monotonic()
print("flush", get_reporter().flush(timeout=0.5), round(time.monotonic() - start, 2))
print("pending", get_reporter().pending, flush=True)
"""


def test_a_server_that_never_comes_back_does_not_stop_the_flow(
    server: LiveServer, run_script: RunScript
) -> None:
    assert server.proc is not None
    started = time.monotonic()
    done = run_script(
        _ORPHAN.replace("int(sys.argv[1])", str(server.proc.pid)),
        CADENZA_API_URL=server.url,
        CADENZA_API_FLUSH_TIMEOUT="2",
    )
    elapsed = time.monotonic() - started
    server.kill()
    assert done.returncode == 0, done.stderr
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    result, seconds = out["result"].split(" seconds ")
    assert result == "45"
    # The final flush waited its bound (2 s) for the server, not more.
    assert 2.0 <= float(seconds) < 4.0
    assert "could not be recorded yet" in done.stderr
    # The next flow run does not wait the whole bound again while the server is away.
    small, seconds = out["small"].split(" seconds ")
    assert small == "99"
    assert float(seconds) < 1.8
    flushed, seconds = out["flush"].split()
    assert flushed == "False"
    assert 0.5 <= float(seconds) < 1.5
    pending = int(out["pending"])
    assert pending > 0
    # At exit: one more try for the bound, then the count of what is lost.
    assert re.search(
        rf"{pending} run events could not be delivered to the cadenza server at "
        rf"{re.escape(server.url)}",
        done.stderr,
    ), done.stderr
    assert elapsed < 20


# -- before a flow starts ----------------------------------------------------------------
calls: list[str] = []


@flow
def hello() -> str:
    calls.append("hello")
    return "hi"


def test_no_server_at_the_url_fails_the_flow_call_before_it_runs(
    use_server: Callable[..., None],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    use_server(url)
    calls.clear()
    started = time.monotonic()
    with pytest.raises(CadenzaError) as info:
        hello()
    elapsed = time.monotonic() - started
    assert calls == []
    message = str(info.value)
    assert f"Cannot reach the cadenza server at {url} (CADENZA_API_URL)" in message
    assert "cadenza server start" in message
    assert "unset CADENZA_API_URL" in message
    assert 2.5 <= elapsed < 8  # it tried for a few seconds


def test_the_api_key_is_checked_before_a_flow_runs(
    tmp_path: Path, use_server: Callable[..., None]
) -> None:
    srv = LiveServer(tmp_path / "server", api_key="s3cret")
    srv.start()
    try:
        calls.clear()
        use_server(srv.url)
        with pytest.raises(CadenzaError, match="requires an API key: set CADENZA_API_KEY"):
            hello()
        use_server(srv.url, key="wrong")
        with pytest.raises(CadenzaError, match="refused the API key in CADENZA_API_KEY"):
            hello()
        assert calls == []
        assert srv.query.count("flow_runs") == 0
        use_server(srv.url + "/api/", key="s3cret")
        assert hello() == "hi"
        assert calls == ["hello"]
        assert srv.query("SELECT state_name FROM flow_runs") == [("Completed",)]
    finally:
        srv.stop()


def test_a_url_that_is_not_a_cadenza_server_is_refused(
    server: LiveServer, use_server: Callable[..., None]
) -> None:
    use_server(server.url + "/elsewhere")
    with pytest.raises(CadenzaError, match="does not look like a cadenza server"):
        hello()
    with pytest.raises(CadenzaError, match="is not the URL of a cadenza server"):
        HttpReporter("127.0.0.1:4200")


# -- batches -------------------------------------------------------------------------------
def test_many_events_go_in_bounded_batches(server: LiveServer) -> None:
    reporter = HttpReporter(server.url, interval=3600)
    clock = Clock()
    run = make.flow_run(created=clock())
    events: list[Event] = make.completed(run, clock)
    events += [make.log(run, f"line {i}", timestamp=clock()) for i in range(12_000)]
    for event in events:
        reporter.emit(event)
    assert server.query.count("logs") == 0  # nothing sent behind our back
    assert reporter.flush()
    assert reporter.delivered == len(events)
    assert server.query.count("logs") == 12_000
    assert reporter.flush()  # nothing left: a no-op
    reporter.close()


def _bad_task_run(run: Any) -> TaskRunCreated:
    bad = make.task_run(run, name="bad")
    bad.id = 12345  # type: ignore[assignment] # not a string: the server refuses it
    return TaskRunCreated(bad)


@pytest.mark.parametrize("how", ["named", "halving"])
def test_events_the_server_refuses_are_dropped_and_the_others_delivered(
    server: LiveServer,
    reporting_log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    if how == "halving":  # as if the server did not say which event is invalid
        monkeypatch.setattr(http_reporting, "_EVENT_INDEX", re.compile(r"(?!)"))
    reporter = HttpReporter(server.url, interval=3600)
    clock = Clock()
    run = make.flow_run(created=clock())
    events: list[Event] = make.completed(run, clock)
    for i in range(300):
        if i in (10, 150, 299):
            events.append(_bad_task_run(run))
        events.append(make.log(run, f"line {i}", timestamp=clock()))
    for event in events:
        reporter.emit(event)
    assert reporter.flush()
    assert reporter.dropped == 3
    assert reporter.delivered == len(events) - 3
    assert server.query.count("logs") == 300
    assert server.query("SELECT state_name FROM flow_runs") == [("Completed",)]
    refused = [r for r in reporting_log.records if "dropped" in r.getMessage()]
    assert refused
    assert "'id' must be a string" in refused[0].getMessage()
    reporter.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_reports_its_own_events(server: LiveServer) -> None:
    reporter = HttpReporter(server.url, interval=3600)
    reporter.check()
    clock = Clock()
    parents = make.completed(make.flow_run(created=clock()), clock)
    childs = make.completed(make.flow_run(created=clock()), clock)
    for event in parents:
        reporter.emit(event)
    # As if the sender were in the middle of a request when the process forks.
    with reporter._send_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: leave only through os._exit
        code = 1
        try:
            code = 2 if reporter.pending else 3
            if code == 3:
                for event in childs:
                    reporter.emit(event)
                code = 0 if reporter.flush(timeout=10) else 4
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child hung: a lock held at the fork was inherited")
    assert os.waitstatus_to_exitcode(status) == 0
    assert server.query.count("flow_runs") == 1  # the child's; the parent's are pending
    assert reporter.flush()
    assert server.query.count("flow_runs") == 2
    reporter.close()


# -- configuration ---------------------------------------------------------------------------
def test_get_reporter_reports_to_the_server_only_with_an_api_url(
    use_server: Callable[..., None],
) -> None:
    assert isinstance(get_reporter(), EmbeddedReporter)
    use_server("http://127.0.0.1:9/api/")
    reporter = get_reporter()
    assert isinstance(reporter, HttpReporter)
    assert reporter.api_url == "http://127.0.0.1:9"
    assert normalize_api_url("https://cadenza.example.com/") == "https://cadenza.example.com"


def test_import_cadenza_does_not_import_httpx() -> None:
    code = "import sys, cadenza; print('httpx' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
