"""Small generated months, a flaky mirror serving them, and reading runs back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cadenza.store import get_store
from examples.taxi import FlakyMirror, write_month

ROWS = 3_000
"""Trips of each test month: enough for a model, small enough to train in a second."""
MONTHS = [(2023, 1), (2023, 2), (2023, 12), (2024, 1)]


@pytest.fixture(scope="session")
def months_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the generated files of :data:`MONTHS` (made once per session)."""
    folder = tmp_path_factory.mktemp("taxi-months")
    for year, month in MONTHS:
        write_month(folder, year, month, rows=ROWS)
    return folder


@pytest.fixture
def mirror(months_dir: Path) -> Iterator[FlakyMirror]:
    """The months served on 127.0.0.1; the first request of each file answers 503."""
    with FlakyMirror(months_dir, failures=1) as served:
        yield served


def latest_flow_run_id() -> str:
    runs = get_store().list_flow_runs(limit=1)
    assert runs, "no flow run was recorded"
    return runs[0].id


def task_histories(flow_run_id: str) -> dict[str, list[str]]:
    """The state names each task run of a flow run went through, by task-run name."""
    store = get_store()
    out = {}
    for summary in store.list_task_runs(flow_run_id):
        run = store.read_task_run(summary.id)
        assert run is not None and run.history is not None
        out[run.name] = [state.name for state in run.history]
    return out
