"""Fixtures of the reporting tests: a fresh CADENZA_HOME per test, writers on real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cadenza.reporting import reset_reporter
from cadenza.reporting.embedded import EmbeddedReporter
from cadenza.settings import reset_settings
from cadenza.store.sql import SqlStore


@pytest.fixture(autouse=True)
def cadenza_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A CADENZA_HOME of the test's own; settings and reporter start afresh."""
    home = tmp_path / "home"
    monkeypatch.setenv("CADENZA_HOME", str(home))
    for var in (
        "CADENZA_DATABASE_URL",
        "CADENZA_API_URL",
        "CADENZA_LOGGING_LEVEL",
        "CADENZA_FLUSH_INTERVAL",
    ):
        monkeypatch.delenv(var, raising=False)
    reset_reporter()
    reset_settings()
    yield home
    reset_reporter()
    reset_settings()


@pytest.fixture
def db(cadenza_home: Path) -> Path:
    """The embedded database file of the test's home."""
    return cadenza_home / "cadenza.db"


class Query:
    """Reads a SQLite file with the sqlite3 module, as another program would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        con = sqlite3.connect(self.path)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def count(self, table: str) -> int:
        if not self.path.exists():
            return 0
        return int(self(f"SELECT count(*) FROM {table}")[0][0])


@pytest.fixture
def query(db: Path) -> Query:
    return Query(db)


@pytest.fixture
def make_reporter(db: Path) -> Iterator[Callable[..., EmbeddedReporter]]:
    """``make_reporter(interval=...)``: a writer to the home's database, closed at the end."""
    made: list[tuple[EmbeddedReporter, SqlStore]] = []

    def make(interval: float = 3600.0, store: SqlStore | None = None) -> EmbeddedReporter:
        s = store if store is not None else SqlStore(f"sqlite:///{db}")
        reporter = EmbeddedReporter(lambda: s, interval)
        made.append((reporter, s))
        return reporter

    yield make
    for reporter, s in made:
        reporter.close()
        s.close()


@pytest.fixture
def run_script(
    cadenza_home: Path, tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs Python source in a new interpreter with the test's CADENZA_HOME."""

    def run(source: str, *, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "script.py"
        script.write_text(source)
        return subprocess.run(
            [sys.executable, str(script)],
            env={**os.environ, "CADENZA_HOME": str(cadenza_home), **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
