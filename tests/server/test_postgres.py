"""A cadenza server on PostgreSQL, end to end: ``cadenza db upgrade`` creates the schema,
``cadenza server start`` serves the database, a flow in another process reports to the
server over HTTP, and the API gives back what the flow did. Everything is a real
process; the database is the PostgreSQL of ``CADENZA_TEST_POSTGRES_URL``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from cadenza.store.schema import SCHEMA_VERSION
from tests.postgres import fresh_postgres_url
from tests.store import raw

FLOW = """
from cadenza import flow, get_run_logger, log_metric, task

calls = {"n": 0}


@task(retries=1, retry_delay_seconds=0)
def load(month: int) -> list[float]:
    calls["n"] += 1
    if calls["n"] == 1:
        raise ConnectionError("the mirror is busy")
    return [float(month + i) for i in range(10)]


@task
def train(rows: list[float]) -> float:
    rmse = sum(rows) / len(rows) / 10
    log_metric("rmse", rmse)
    get_run_logger().info("trained on %d rows", len(rows))
    return rmse


@flow(flow_run_name="training-{month}")
def training(month: int = 3) -> float:
    return train(load(month))


print(training(month=3))
"""


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env["CADENZA_HOME"] = str(tmp_path / "home")
    env.update(values)
    return env


def _cadenza(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadenza.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    return fresh_postgres_url(request)


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[str]:
    """``cadenza server start`` on the database, after ``cadenza db upgrade``."""
    env = _env(tmp_path, CADENZA_DATABASE_URL=database)
    upgraded = _cadenza(["db", "upgrade", "--json"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["after"] == SCHEMA_VERSION
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cadenza.cli.main", "server", "start", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_a_flow_reporting_to_a_server_on_postgres_reads_back(
    server: str, database: str, tmp_path: Path
) -> None:
    current = _cadenza(["db", "current", "--json"], _env(tmp_path, CADENZA_DATABASE_URL=database))
    assert current.returncode == 0, current.stderr
    assert json.loads(current.stdout)["up_to_date"] is True

    script = tmp_path / "training.py"
    script.write_text(FLOW)
    done = subprocess.run(
        [sys.executable, str(script)],
        env=_env(tmp_path, CADENZA_API_URL=server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1]) == pytest.approx(0.75)

    with httpx.Client(base_url=f"{server}/api", timeout=30) as api:
        (listed,) = api.get("/flow_runs").json()["items"]
        assert (listed["name"], listed["flow_name"]) == ("training-3", "training")
        assert listed["state"]["type"] == "COMPLETED"
        run = api.get(f"/flow_runs/{listed['id']}").json()
        assert run["parameters"] == {"month": 3}
        assert [s["name"] for s in run["history"]] == ["Pending", "Running", "Completed"]
        tasks = {t["name"]: t for t in api.get(f"/flow_runs/{run['id']}/task_runs").json()["items"]}
        assert sorted(tasks) == ["load-0", "train-0"]
        load_names = [
            s["name"] for s in api.get(f"/task_runs/{tasks['load-0']['id']}").json()["history"]
        ]
        assert load_names == ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"]
        lines = [e["message"] for e in api.get(f"/flow_runs/{run['id']}/logs").json()["items"]]
        assert "trained on 10 rows" in lines
        assert api.get("/flow_runs/count", params={"flow": "training"}).json()["count"] == 1

    # The rows are in PostgreSQL, where the server put them.
    with raw.connection(database) as conn:
        assert conn.dialect.name == "postgresql"
        counts = conn.execute(
            sa.text("SELECT (SELECT count(*) FROM flow_runs), (SELECT count(*) FROM task_runs)")
        ).one()
        assert tuple(counts) == (1, 2)
        (rmse,) = conn.execute(sa.text("SELECT value FROM latest_metrics WHERE key = 'rmse'")).one()
        assert rmse == pytest.approx(0.75)
