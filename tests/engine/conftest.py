from __future__ import annotations

import pytest

from cadenza.store import get_store
from cadenza.store.base import RunStore


@pytest.fixture
def store() -> RunStore:
    """The embedded store of the test's CADENZA_HOME (what flows record into)."""
    return get_store()
