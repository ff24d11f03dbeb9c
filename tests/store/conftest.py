"""Fixtures of the store tests: a fresh CADENZA_HOME per test and stores on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from cadenza.store.deploy_base import DeploymentStore
from cadenza.store.sql import SqlStore
from tests.store.backends import BACKENDS, Backend
from tests.store.deploy_stores import DeployStoreKind


@pytest.fixture(autouse=True)
def cadenza_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A CADENZA_HOME of the test's own; settings and reporter start afresh."""
    home = tmp_path / "home"
    monkeypatch.setenv("CADENZA_HOME", str(home))
    for var in ("CADENZA_DATABASE_URL", "CADENZA_API_URL", "CADENZA_LOGGING_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    reset_reporter()
    reset_settings()
    yield home
    reset_reporter()
    reset_settings()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend of a test parametrized with ``indirect=True`` (SQLite otherwise)."""
    return getattr(request, "param", BACKENDS[0])


@pytest.fixture
def store(backend: Backend, request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """A store on an empty database of ``backend``, closed after the test."""
    s = SqlStore(backend.fresh_url(request))
    yield s
    s.close()


@pytest.fixture
def deploy_store(request: pytest.FixtureRequest) -> Iterator[DeploymentStore]:
    """A deployment store of the kind a test is parametrized with (``indirect=True``)."""
    kind: DeployStoreKind = request.param
    s = SqlStore(kind.backend.fresh_url(request))
    try:
        if not kind.http:
            yield s
            return
        from tests.store.http_store import served_http_store

        with served_http_store(s) as http:
            yield http
    finally:
        s.close()
