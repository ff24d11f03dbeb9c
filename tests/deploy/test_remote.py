"""Deployments against a real server on 127.0.0.1: flow.deploy, the command line and an
executed run all go through the REST API when CADENZA_API_URL is set, and the
server's scheduler service creates the runs ahead."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cadenza.cli.main import cli
from cadenza.client import close_clients
from cadenza.reporting import reset_reporter
from cadenza.server.services.scheduler import SchedulerService
from cadenza.settings import reset_settings
from cadenza.states import StateType
from cadenza.store.sql import SqlStore
from cadenza.utilities.entrypoints import load_flow
from tests.server.api.conftest import LiveServer

FLOWS = """
from cadenza import flow


@flow
def nightly(day: str = "2024-01-01", factor: int = 2) -> str:
    return f"{day} x{factor}"
"""


@pytest.fixture
def server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, SqlStore]]:
    store = SqlStore(f"sqlite:///{tmp_path / 'server.db'}")
    live = LiveServer(store, api_key="k3y")
    live.app.state.services = [SchedulerService(interval=0.2)]
    live.start()
    monkeypatch.setenv("CADENZA_API_URL", live.url)
    monkeypatch.setenv("CADENZA_API_KEY", "k3y")
    reset_settings()
    try:
        yield live, store
    finally:
        close_clients()
        reset_reporter()
        live.stop()
        store.close()


def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the condition did not become true in time")


def test_deploy_run_and_execute_through_the_server(
    server: tuple[LiveServer, SqlStore],
    flow_file: Callable[[str], Path],
    cadenza_home: Path,
) -> None:
    _, store = server
    path = flow_file(FLOWS)
    flow = load_flow(f"{path}:nightly")
    d = flow.deploy("every-minute", work_pool_name="remote", interval=60, path=path.parent)
    assert store.read_work_pool("remote") is not None
    assert store.read_deployment(d.id) is not None
    # The server's scheduler keeps the runs ahead (flow.deploy created the first ones).
    wait_for(lambda: len(store.list_scheduled_flow_runs(deployment_id=d.id)) >= 3)
    result = CliRunner().invoke(
        cli,
        ["deployment", "run", "nightly/every-minute", "--param", "factor=7", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(
        cli, ["deployment", "run", "nightly/every-minute", "--param", "factor=x"]
    )
    assert bad.exit_code == 1
    assert "parameter 'factor' must be integer" in bad.output
    import json

    run_id = json.loads(result.output)["id"]
    env = {**os.environ, "CADENZA_HOME": str(cadenza_home)}
    proc = subprocess.run(
        [sys.executable, "-m", "cadenza.deploy.execute", run_id],
        env=env,
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    run = store.read_flow_run(run_id)
    assert run is not None and run.state is not None
    assert run.state.type is StateType.COMPLETED
    assert run.pid not in (None, os.getpid())
    assert [s.name for s in run.history or ()] == ["Scheduled", "Running", "Completed"]
    listing = CliRunner().invoke(cli, ["work-pool", "inspect", "remote", "--json"])
    assert '"name": "remote"' in listing.output
