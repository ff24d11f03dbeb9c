"""The store backends the contract tests run against.

Each backend is a name and a function that returns the URL of a fresh, empty database
for one test, given the test's (or fixture's) request: a SQLite file in the test's
``tmp_path``, or a schema of its own on the PostgreSQL server of
``CADENZA_TEST_POSTGRES_URL`` (see :mod:`tests.postgres`; skipped when the variable is not
set). Parametrize with ``ids=str`` to name the cases after the backends
(``-k postgres`` runs the PostgreSQL ones).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.postgres import fresh_postgres_url


@dataclasses.dataclass(frozen=True)
class Backend:
    name: str
    fresh_url: Callable[[pytest.FixtureRequest], str]
    """The URL of an empty database, given the request of the test or fixture."""

    def __str__(self) -> str:
        return self.name


def _sqlite_file(request: pytest.FixtureRequest) -> str:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return f"sqlite:///{tmp_path / 'store.db'}"


SQLITE = Backend("sqlite", _sqlite_file)
POSTGRES = Backend("postgres", fresh_postgres_url)

BACKENDS: list[Backend] = [SQLITE, POSTGRES]
