"""A worker of the UI test server in a real browser: the work pools page shows it with
its last heartbeat and the runs waiting, and the run page's Cancel button stops the run
it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadenza.deploy.deployments import build_deployment
from cadenza.deploy.serialize import deployment_json
from cadenza.utilities.entrypoints import load_flow
from tests.server.ui.conftest import API_KEY, Server, clean_env, wait_for

SLEEPER = """
import time

from cadenza import flow


@flow
def ui_sleeper(seconds: float = 120) -> None:
    time.sleep(seconds)
"""
POOL = "ui-workers"


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url + "/api", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="module")
def deployment_id(api: httpx.Client, ui_root: Path) -> str:
    folder = ui_root / "worker-code"
    folder.mkdir(exist_ok=True)
    (folder / "sleeper.py").write_text(textwrap.dedent(SLEEPER))
    if api.get(f"/work_pools/{POOL}").status_code == 404:
        assert api.post("/work_pools", json={"name": POOL}).status_code == 201
    d = build_deployment(
        load_flow(f"{folder / 'sleeper.py'}:ui_sleeper"),
        "slow",
        work_pool_name=POOL,
        entrypoint="sleeper.py:ui_sleeper",
        path=folder,
    )
    saved = api.post("/deployments", json=deployment_json(d))
    assert saved.status_code == 200, saved.text
    found: str = saved.json()["id"]
    return found


@pytest.fixture(scope="module")
def worker(server: Server, ui_root: Path, deployment_id: str) -> Iterator[subprocess.Popen[bytes]]:
    log = ui_root / "ui-worker.log"
    env = clean_env(
        ui_root / "worker-home",
        CADENZA_API_URL=server.url,
        CADENZA_API_KEY=API_KEY,
        CADENZA_HEARTBEAT_INTERVAL="0.3",
    )
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cadenza.cli.main", "worker", "start", "--pool", POOL],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for(lambda: "started on work pool" in log.read_text(), timeout=60)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_the_work_pools_page_shows_workers_and_waiting_runs(
    page: Any, server: Server, api: httpx.Client, deployment_id: str, worker: Any, screenshot: Any
) -> None:
    later = api.post(f"/deployments/{deployment_id}/runs", json={"start_in_seconds": 3600})
    assert later.status_code == 201, later.text
    page.goto(server.url + "/work-pools")
    pool = page.locator(f"#pool-{POOL}")
    row = pool.locator("table.workers tr.worker")
    assert row.count() == 1
    assert row.locator(".worker-status").inner_text() == "Online"
    assert "ago" in row.locator(".heartbeat").inner_text()
    waiting = pool.locator("table.waiting-runs tbody tr")
    assert waiting.count() == 1
    assert later.json()["name"] in waiting.inner_text()
    screenshot(page, "work-pools-workers")
    api.post(f"/flow_runs/{later.json()['id']}/cancel")  # leave nothing waiting


def test_the_cancel_button_stops_a_run_on_a_worker(
    page: Any, server: Server, api: httpx.Client, deployment_id: str, worker: Any
) -> None:
    made = api.post(f"/deployments/{deployment_id}/runs", json={})
    assert made.status_code == 201, made.text
    run_id = made.json()["id"]
    wait_for(
        lambda: api.get(f"/flow_runs/{run_id}").json()["state"]["type"] == "RUNNING", timeout=60
    )
    page.goto(f"{server.url}/runs/{run_id}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-button")
    assert "Cancellation requested" in page.locator(".flash").inner_text()
    page.locator("h1 .badge", has_text="Cancelled").wait_for(timeout=60_000)
    run = api.get(f"/flow_runs/{run_id}").json()
    assert run["worker_id"] is not None
    assert [s["name"] for s in run["history"]][-2:] == ["Cancelling", "Cancelled"]
