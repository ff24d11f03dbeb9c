"""Cancelling through the API a flow run that reports to the server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reporting.live_server import LiveServer

SCRIPT = """
import time
from cadenza import flow, task

@task
def slow():
    time.sleep(60)

@flow
def remote_job():
    slow()

remote_job()
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path / "server")
    srv.start()
    yield srv
    srv.stop()


def test_cancel_through_the_api_ends_a_remote_run_cancelled(
    server: LiveServer, tmp_path: Path
) -> None:
    script = tmp_path / "remote_job.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env["CADENZA_HOME"] = str(tmp_path / "client-home")
    env["CADENZA_API_URL"] = server.url
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    api = httpx.Client(base_url=server.url, timeout=10)
    try:
        run_id = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and run_id is None:
            runs = api.get("/api/flow_runs").json()["items"]
            if runs and runs[0]["state"]["type"] == "RUNNING":
                run_id = runs[0]["id"]
            time.sleep(0.1)
        assert run_id is not None, "the run did not start"
        answer = api.post(f"/api/flow_runs/{run_id}/cancel")
        assert answer.status_code == 202, answer.text
        proc.communicate(timeout=30)
        run = api.get(f"/api/flow_runs/{run_id}").json()
        assert run["state"]["type"] == "CANCELLED"
        assert [s["name"] for s in run["history"]][-2:] == ["Cancelling", "Cancelled"]
    finally:
        proc.kill()
        api.close()
