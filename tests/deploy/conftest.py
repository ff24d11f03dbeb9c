"""Fixtures of the deployment tests: the embedded store, a work pool and flow files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from cadenza.client import get_deployment_store
from cadenza.deploy.pools import WorkPool
from cadenza.store.sql import SqlStore


@pytest.fixture
def store() -> SqlStore:
    """The embedded store of the test's CADENZA_HOME, with a work pool named ``pool``."""
    s = get_deployment_store()
    assert isinstance(s, SqlStore)
    s.create_work_pool(WorkPool("pool"))
    return s


@pytest.fixture
def flow_file(tmp_path: Path) -> Callable[[str], Path]:
    """``flow_file(source)``: writes a module of flows in a folder of its own."""

    def write(source: str, name: str = "flows.py") -> Path:
        folder = tmp_path / "project"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture
def traces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where the flows of ``tests.deploy.worker_helpers.FLOWS`` leave their
    traces (``TEST_TRACES``)."""
    folder = tmp_path / "traces"
    folder.mkdir()
    monkeypatch.setenv("TEST_TRACES", str(folder))
    return folder
