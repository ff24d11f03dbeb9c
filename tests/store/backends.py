"""The store backends the contract tests run against.

Each backend is a name and a function that returns the URL of a fresh, empty
database for one test. To run the contract suite on another backend, append an
entry to :data:`BACKENDS` (a PostgreSQL entry would create a fresh database or
schema from a server URL given in the environment, and skip when none is given).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Backend:
    name: str
    fresh_url: Callable[[Path], str]
    """The URL of an empty database, given the test's ``tmp_path``."""

    def __str__(self) -> str:
        return self.name


def _sqlite_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


BACKENDS: list[Backend] = [
    Backend("sqlite", _sqlite_file),
]
