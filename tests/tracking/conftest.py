"""Fixtures of the tracking tests: the store of the test's CADENZA_HOME, read back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cadenza.store.sql import SqlStore


@pytest.fixture
def store(cadenza_home: Path) -> Iterator[SqlStore]:
    """The embedded store the test's flows write to (opened after they ran is fine)."""
    s = SqlStore(f"sqlite:///{cadenza_home / 'cadenza.db'}")
    yield s
    s.close()
