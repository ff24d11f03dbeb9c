"""Every test gets its own CADENZA_HOME: a fresh embedded database in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from tests.postgres import ENV, SKIP_REASON, PostgresDatabases


@pytest.fixture(autouse=True)
def cadenza_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "cadenza-home"
    monkeypatch.setenv("CADENZA_HOME", str(home))
    for var in ("CADENZA_DATABASE_URL", "CADENZA_API_URL", "CADENZA_LOGGING_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    reset_reporter()
    reset_settings()
    yield home
    reset_reporter()
    reset_settings()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    """The PostgreSQL server named by CADENZA_TEST_POSTGRES_URL, with a scratch database
    for the session; the test is skipped when the variable is not set."""
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(SKIP_REASON)
    databases = PostgresDatabases(url)
    yield databases
    databases.close()
