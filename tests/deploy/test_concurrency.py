"""Concurrency limits by tag: enforced across processes on one SQLite file and against a
server, a limit of 0, the slots of a killed process, and no store access for task runs
without a limited tag."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cadenza import flow, tags, task
from cadenza.client import close_clients, get_deployment_store
from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from cadenza.states import StateType
from cadenza.store.sql import SqlStore
from tests.deploy.worker_helpers import wait_for
from tests.server.api.conftest import LiveServer

SCRIPT = """
import os
import sys
import time

from cadenza import flow, task

TRACE = sys.argv[1]


@task(tags=["gpu"])
def use_gpu(i: int) -> int:
    with open(TRACE, "a") as f:
        f.write(f"start {time.time()!r} {os.getpid()} {i}\\n")
    time.sleep(float(os.environ.get("TASK_SECONDS", "0.3")))
    with open(TRACE, "a") as f:
        f.write(f"end {time.time()!r} {os.getpid()} {i}\\n")
    return i


@task
def untagged(i: int) -> int:
    return i


@flow
def many(n: int = 4) -> list[int]:
    untagged.map(range(n)).result()
    return use_gpu.map(range(n)).result()


if __name__ == "__main__":
    print(many(int(os.environ.get("TASKS", "4"))))
"""


def start_scripts(
    tmp_path: Path, count: int, env: dict[str, str], trace: Path
) -> list[subprocess.Popen[str]]:
    script = tmp_path / "gpu_flow.py"
    script.write_text(SCRIPT)
    return [
        subprocess.Popen(
            [sys.executable, str(script), str(trace)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def most_at_once(trace: Path) -> tuple[int, int]:
    """The largest number of task runs inside their bodies at once, and how many ran."""
    events = []
    for line in trace.read_text().splitlines():
        kind, when, *_ = line.split()
        events.append((float(when), 1 if kind == "start" else -1))
    events.sort(key=lambda e: (e[0], e[1]))  # at equal times, an end before a start
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak, sum(1 for _, step in events if step == 1)


def finish(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


def test_a_limit_holds_across_processes_on_one_database(tmp_path: Path, cadenza_home: Path) -> None:
    get_deployment_store().set_concurrency_limit("gpu", 2)
    trace = tmp_path / "trace.txt"
    procs = start_scripts(tmp_path, 3, {"CADENZA_HOME": str(cadenza_home)}, trace)
    finish(procs)
    peak, ran = most_at_once(trace)
    assert ran == 12
    assert peak <= 2
    limit = get_deployment_store().read_concurrency_limit("gpu")
    assert limit is not None and limit.slots == []  # every slot was freed


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    store = SqlStore(f"sqlite:///{tmp_path / 'server.db'}")
    live = LiveServer(store, api_key="k3y").start()
    monkeypatch.setenv("CADENZA_API_URL", live.url)
    monkeypatch.setenv("CADENZA_API_KEY", "k3y")
    reset_settings()
    try:
        yield live
    finally:
        close_clients()
        reset_reporter()
        live.stop()
        store.close()


def test_a_limit_holds_across_processes_reporting_to_a_server(
    server: LiveServer, tmp_path: Path, cadenza_home: Path
) -> None:
    from click.testing import CliRunner

    from cadenza.cli.main import cli

    made = CliRunner().invoke(cli, ["concurrency-limit", "create", "gpu", "1"])
    assert made.exit_code == 0, made.output
    assert server.store.read_concurrency_limit("gpu") is not None  # on the server
    trace = tmp_path / "trace.txt"
    env = {
        "CADENZA_HOME": str(cadenza_home),
        "CADENZA_API_URL": server.url,
        "CADENZA_API_KEY": "k3y",
        "TASKS": "3",
    }
    finish(start_scripts(tmp_path, 2, env, trace))
    peak, ran = most_at_once(trace)
    assert (peak, ran) == (1, 6)
    listing = CliRunner().invoke(cli, ["concurrency-limit", "ls", "--json"])
    assert '"tag": "gpu"' in listing.output


def test_the_slot_of_a_killed_process_expires(tmp_path: Path, cadenza_home: Path) -> None:
    get_deployment_store().set_concurrency_limit("gpu", 1)
    trace = tmp_path / "trace.txt"
    env = {
        "CADENZA_HOME": str(cadenza_home),
        "CADENZA_HEARTBEAT_INTERVAL": "0.2",
        "CADENZA_HEARTBEAT_TIMEOUT": "2",
        "TASKS": "1",
    }
    (holder,) = start_scripts(tmp_path, 1, {**env, "TASK_SECONDS": "120"}, trace)
    try:
        wait_for(lambda: trace.exists() and "start" in trace.read_text(), 60, "a slot held")
        os.kill(holder.pid, signal.SIGKILL)
    finally:
        holder.communicate(timeout=30)
    (after,) = start_scripts(tmp_path, 1, {**env, "TASK_SECONDS": "0"}, tmp_path / "after.txt")
    finish([after])
    assert most_at_once(tmp_path / "after.txt") == (1, 1)


def test_a_limit_of_zero_fails_its_task_runs(cadenza_home: Path) -> None:
    get_deployment_store().set_concurrency_limit("frozen", 0)

    @task(tags=["frozen"])
    def never() -> int:
        return 1

    @flow
    def blocked() -> int:
        return never()

    state = blocked(return_state=True)
    assert state.type is StateType.FAILED
    assert "tag 'frozen' has a concurrency limit of 0" in (state.message or "")


def test_tasks_without_a_limited_tag_never_ask_the_store(
    cadenza_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = get_deployment_store()
    store.set_concurrency_limit("gpu", 3)
    calls = {"list": 0, "acquire": 0}
    list_limits = SqlStore.list_concurrency_limits
    acquire = SqlStore.acquire_concurrency_slots

    def counting_list(self: SqlStore, **kw: object) -> object:
        calls["list"] += 1
        return list_limits(self, **kw)  # type: ignore[arg-type]

    def counting_acquire(self: SqlStore, *args: object, **kw: object) -> object:
        calls["acquire"] += 1
        return acquire(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(SqlStore, "list_concurrency_limits", counting_list)
    monkeypatch.setattr(SqlStore, "acquire_concurrency_slots", counting_acquire)

    @task
    def plain(i: int) -> int:
        return i

    @task(tags=["cpu"])
    def other_tag(i: int) -> int:
        return i

    @task(tags=["gpu"])
    def limited(i: int) -> int:
        return i

    @flow
    def untagged_flow() -> None:
        for i in range(20):
            plain(i)

    @flow
    def mixed_flow() -> None:
        for i in range(10):
            plain(i)
            other_tag(i)
        with tags("gpu"):
            plain(99)  # tagged by its context: limited too
        limited(1)

    untagged_flow()
    assert calls == {"list": 0, "acquire": 0}
    mixed_flow()
    # The limits are read once per flow run; only the two limited task runs take slots.
    assert calls == {"list": 1, "acquire": 2}


def test_async_task_runs_wait_for_a_slot_without_blocking_the_loop(cadenza_home: Path) -> None:
    import asyncio

    get_deployment_store().set_concurrency_limit("io", 1)
    inside: list[int] = []
    peak: list[int] = []

    @task(tags=["io"])
    async def fetch(i: int) -> int:
        inside.append(i)
        peak.append(len(inside))
        await asyncio.sleep(0.05)
        inside.remove(i)
        return i

    @flow
    async def gather() -> list[int]:
        return list(await asyncio.gather(*(fetch(i) for i in range(4))))

    assert asyncio.run(gather()) == [0, 1, 2, 3]
    assert max(peak) == 1


def test_the_concurrency_limit_commands(cadenza_home: Path) -> None:
    import json

    from click.testing import CliRunner

    from cadenza.cli.main import cli

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["concurrency-limit", *args])
        return result.exit_code, result.output

    assert run("ls") == (
        0,
        "No concurrency limits: set one with `cadenza concurrency-limit create TAG N`.\n",
    )
    assert run("create", "gpu", "2") == (
        0,
        "Task runs tagged 'gpu': at most 2 at once (0 running now).\n",
    )
    assert get_deployment_store().acquire_concurrency_slots(["gpu"], "t-1", ttl=60)
    code, out = run("ls")
    assert (code, out.split()) == (0, ["TAG", "LIMIT", "ACTIVE", "gpu", "2", "1"])
    code, out = run("inspect", "gpu", "--json")
    body = json.loads(out)
    assert (body["tag"], body["limit"], body["active"]) == ("gpu", 2, 1)
    assert [s["holder"] for s in body["slots"]] == ["t-1"]
    code, out = run("inspect", "cpu")
    assert code == 1
    assert "Tag 'cpu' has no concurrency limit. Tags with one: gpu." in out
    code, out = run("create", "gpu", "--", "-1")
    assert code == 1 and "must be a whole number of 0 or more" in out
    assert run("delete", "gpu") == (0, "Removed the concurrency limit of tag 'gpu'.\n")
    assert run("delete", "gpu")[0] == 1
