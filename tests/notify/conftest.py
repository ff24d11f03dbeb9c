"""Real receivers for the notification tests: an SMTP server (aiosmtpd) and an HTTP
receiver on 127.0.0.1, and a real cadenza server running the notification services.

Retries are made fast (a few tens of milliseconds) through the settings, so that a
test waits for a condition, never for a fixed time.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.server.ui.conftest import free_port, wait_for

from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from cadenza.store.sql import SqlStore

__all__ = ["free_port", "wait_for"]


@pytest.fixture(autouse=True)
def fast_retries(cadenza_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CADENZA_NOTIFY_RETRY_DELAY", "0.05")
    monkeypatch.setenv("CADENZA_NOTIFY_RETRY_MAX_DELAY", "0.2")
    monkeypatch.setenv("CADENZA_NOTIFY_FLUSH_TIMEOUT", "20")
    for var in ("CADENZA_SECRET_KEY", "CADENZA_UI_URL", "CADENZA_NOTIFY_MAX_ATTEMPTS"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    yield
    reset_reporter()


# -- SMTP ------------------------------------------------------------------------------
class Mailbox:
    """What a real SMTP server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"

    def bodies(self) -> list[str]:
        return [str(m.get_payload(decode=True).decode()) for m in self.messages]


class SmtpServer:
    def __init__(self, *, username: str | None = None, password: str | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.mailbox = Mailbox()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if username is not None:

            def authenticator(
                server: Any, session: Any, envelope: Any, mechanism: str, auth: Any
            ) -> Any:
                from aiosmtpd.smtp import AuthResult

                login = (auth.login.decode(), auth.password.decode())
                self.mailbox.logins.append(login)
                return AuthResult(success=login == (username, password))

            kwargs.update(authenticator=authenticator, auth_require_tls=False)
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


# -- HTTP ------------------------------------------------------------------------------
class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is posted and can fail the
    first requests (``fail_first``, answering ``fail_status``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = 0
        self.fail_status = 503
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                failing = len(receiver.requests) < receiver.fail_first
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "answered": receiver.fail_status if failing else 200,
                    }
                )
                self.send_response(receiver.fail_status if failing else 200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/cadenza-token-0123"

    def delivered(self) -> list[dict[str, Any]]:
        """The requests answered 200, their JSON bodies decoded."""
        return [{**r, "json": json.loads(r["body"])} for r in self.requests if r["answered"] == 200]

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


# -- a cadenza server --------------------------------------------------------------------
class NotifyServer:
    """The cadenza app served by uvicorn in a thread, with the notification services."""

    def __init__(self, store: SqlStore, *, services: list[Any], api_key: str = "") -> None:
        from cadenza.server.app import create_app

        self.store = store
        self.app = create_app(store, api_key=api_key, services=services, ui=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NotifyServer:
        self.thread.start()
        wait_for(lambda: _answers(self.url), timeout=20)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url + "/api", timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/api/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def store(cadenza_home: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{cadenza_home / 'cadenza.db'}")
    yield s
    s.close()


@pytest.fixture
def make_server(store: SqlStore) -> Iterator[Callable[..., NotifyServer]]:
    started: list[NotifyServer] = []

    def make(services: list[Any] | None = None, api_key: str = "") -> NotifyServer:
        if services is None:
            from cadenza.server.services.automations import AutomationsService, DeliveryService

            services = [AutomationsService(interval=0.05), DeliveryService(interval=0.05)]
        server = NotifyServer(store, services=services, api_key=api_key).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
