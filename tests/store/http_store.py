"""The HTTP deployment store over a live server (uvicorn on 127.0.0.1) in front of a
SQL store, for the contract tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from cadenza.client.http_deploy import HttpDeploymentStore
from cadenza.store.sql import SqlStore
from tests.server.api.conftest import LiveServer


@contextlib.contextmanager
def served_http_store(store: SqlStore) -> Iterator[HttpDeploymentStore]:
    server = LiveServer(store, api_key="contract-key").start()
    client = HttpDeploymentStore(server.url, "contract-key")
    try:
        yield client
    finally:
        client.close()
        server.stop()
