"""The registry store backends the registry contract tests run against: the SQL store
on every backend of :data:`tests.store.backends.BACKENDS`, and the HTTP store against a
real server (uvicorn on 127.0.0.1) serving a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cadenza.client.http_registry import HttpRegistryStore
from cadenza.store.registry_base import RegistryStore
from cadenza.store.sql import SqlStore
from tests.store.backends import BACKENDS, SQLITE

REGISTRY_BACKENDS = [*(b.name for b in BACKENDS), "http"]


@contextmanager
def open_registry(kind: str, request: pytest.FixtureRequest) -> Iterator[RegistryStore]:
    """A registry store of ``kind`` on an empty database."""
    backend = next((b for b in BACKENDS if b.name == kind), SQLITE)
    store = SqlStore(backend.fresh_url(request))
    try:
        if kind != "http":
            yield store
            return
        from tests.server.api.conftest import LiveServer

        server = LiveServer(store).start()
        remote = HttpRegistryStore(server.url)
        try:
            yield remote
        finally:
            remote.close()
            server.stop()
    finally:
        store.close()
