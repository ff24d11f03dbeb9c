"""Fixtures of the artifact tests: the test's database, read as another program would."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cadenza.store import get_store
from cadenza.store.base import RunStore


class Rows:
    """Reads the ``artifacts`` table of a SQLite file with the sqlite3 module."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        con = sqlite3.connect(self.path)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM artifacts ORDER BY id")]
        finally:
            con.close()


@pytest.fixture
def rows(cadenza_home: Path) -> Rows:
    """The rows of the ``artifacts`` table of the test's embedded database, oldest first."""
    return Rows(cadenza_home / "cadenza.db")


@pytest.fixture
def store() -> RunStore:
    """The embedded store of the test's CADENZA_HOME."""
    return get_store()
