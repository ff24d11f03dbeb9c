"""The registry store backends the registry contract tests run against: the SQL store
on a SQLite file, and the HTTP store against a real server (uvicorn on 127.0.0.1)
serving such a file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cadenza.client.http_registry import HttpRegistryStore
from cadenza.store.registry_base import RegistryStore
from cadenza.store.sql import SqlStore

REGISTRY_BACKENDS = ["sqlite", "http"]


@contextmanager
def open_registry(kind: str, tmp_path: Path) -> Iterator[RegistryStore]:
    """A registry store of ``kind`` on an empty database."""
    store = SqlStore(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        if kind == "sqlite":
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
