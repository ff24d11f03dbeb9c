"""A real uvicorn server on 127.0.0.1 for the API tests, and stores to serve.

``LiveServer`` runs ``uvicorn.Server`` in a thread on a socket bound to a free port,
waits until ``/api/health`` answers, and stops it at the end of the test. The
``served`` fixture serves the test's own fresh store (in its CADENZA_HOME); the
module-wide ``sample`` fixture serves a store filled once with runs of every kind,
for the tests that only read.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from cadenza.server.app import create_app
from cadenza.store.sql import SqlStore
from tests.server.api.sample import Sample, record_sample


class LiveServer:
    """The cadenza app served by uvicorn in a thread of the test process."""

    def __init__(self, store: SqlStore, api_key: str | None = "") -> None:
        self.store = store
        self.app = create_app(store, api_key=api_key, services=[], ui=False)
        # IPPROTO_TCP given, not 0: asyncio sets TCP_NODELAY only on sockets saying so,
        # and without it a keep-alive response waits for a delayed ACK (40 ms).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if not self.thread.is_alive():
                break
            time.sleep(0.02)
        raise RuntimeError("the API server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.url + "/api", headers=headers, timeout=30)


class Api:
    """An HTTP client of a live server that checks statuses."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == expect, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    def post(self, path: str, expect: int = 200, json: Any = None) -> Any:
        response = self.client.post(path, json=json)
        assert response.status_code == expect, response.text
        return response.json()

    def pages(self, path: str, size: int, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list, following ``next_cursor``; checks page sizes."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get(path, limit=size, **params, **({"cursor": cursor} if cursor else {}))
            assert len(page["items"]) <= size
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
            assert len(page["items"]) == size


@pytest.fixture
def store(cadenza_home: Path) -> Iterator[SqlStore]:
    """The store of the test's CADENZA_HOME (the one its subprocesses use too)."""
    s = SqlStore(f"sqlite:///{cadenza_home / 'cadenza.db'}")
    yield s
    s.close()


@pytest.fixture
def served(store: SqlStore) -> Iterator[LiveServer]:
    server = LiveServer(store).start()
    yield server
    server.stop()


@pytest.fixture
def api(served: LiveServer) -> Iterator[Api]:
    with served.client() as client:
        yield Api(client)


@pytest.fixture(scope="module")
def sample_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Sample]]:
    folder = tmp_path_factory.mktemp("sample")
    s = SqlStore(f"sqlite:///{folder / 'sample.db'}")
    sample = record_sample(s)
    server = LiveServer(s).start()
    yield server, sample
    server.stop()
    s.close()


@pytest.fixture
def sample(sample_server: tuple[LiveServer, Sample]) -> Sample:
    return sample_server[1]


@pytest.fixture
def sample_api(sample_server: tuple[LiveServer, Sample]) -> Iterator[Api]:
    with sample_server[0].client() as client:
        yield Api(client)
