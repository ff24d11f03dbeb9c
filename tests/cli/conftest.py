"""Fixtures of the command-line tests: a home of their own and recorded runs.

Runs are recorded by running real flows into a real SQLite file; the commands are
then invoked with click's CliRunner (or as a real process) on that file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cadenza import flow, get_run_logger, tags, task
from cadenza.reporting import reset_reporter
from cadenza.runs import FlowRun, TaskRun
from cadenza.settings import reset_settings
from cadenza.store import get_store
from cadenza.store.base import FlowRunFilter


@task
def add(x: int, y: int) -> int:
    get_run_logger().info("adding %s and %s", x, y)
    return x + y


@task(retries=2, retry_delay_seconds=0)
def flaky(x: int) -> int:
    get_run_logger().warning("trying %s", x)
    raise ValueError(f"cannot use {x}")


@flow
def child(k: int = 1) -> int:
    get_run_logger().info("child starts")
    return add(k, 10)


@flow
def pipeline(n: int = 3) -> list[int]:
    get_run_logger().info("pipeline starts")
    out = [add(i, 1) for i in range(n)]
    child(5)
    return out


@flow
def failing() -> None:
    add(1, 2)
    flaky(3)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A CADENZA_HOME of this test's own; settings and the store are opened anew."""
    path = tmp_path / "cli-home"
    monkeypatch.setenv("CADENZA_HOME", str(path))
    for var in ("CADENZA_DATABASE_URL", "CADENZA_API_URL", "CADENZA_LOGGING_LEVEL", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    reset_reporter()
    reset_settings()
    yield path
    reset_reporter()
    reset_settings()


@dataclasses.dataclass
class Recorded:
    """The runs recorded by :func:`recorded`, read back from the store."""

    pipeline: FlowRun
    child: FlowRun
    failing: FlowRun
    tasks: dict[str, TaskRun]
    """Task runs by ``flow name/task run name``."""


@pytest.fixture
def recorded(home: Path) -> Recorded:
    """Runs of ``pipeline`` (3 tasks and a subflow, tag nightly), then ``failing``."""
    with tags("nightly"):
        pipeline()
    state = failing(return_state=True)
    assert state.is_failed()
    reset_reporter()  # flushes the writer and closes the store
    store = get_store()
    found = {r.flow_name: r for r in store.list_flow_runs(FlowRunFilter())}
    tasks = {}
    for run in found.values():
        for task_run in store.list_task_runs(run.id):
            tasks[f"{run.flow_name}/{task_run.name}"] = task_run
    reset_reporter()
    return Recorded(found["pipeline"], found["child"], found["failing"], tasks)


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(home: Path) -> Invoke:
    """Run ``cadenza ARGS...`` in this process; checks the exit code (0 unless given)."""
    from cadenza.cli.main import cli

    runner = CliRunner()

    def run(*args: str, exit_code: int = 0) -> Result:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == exit_code, result.output
        return result

    return run
