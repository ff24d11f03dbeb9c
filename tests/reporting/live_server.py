"""A real cadenza server for the remote reporting tests.

It runs uvicorn in a subprocess on 127.0.0.1 with a SQLite database of its own, so
that a test can kill it and start it again on the same port and database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.reporting.conftest import Query

_SERVE = """
import sys

import uvicorn

from cadenza.server.app import create_app

url, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
app = create_app(database_url=url, api_key=key, services=[], ui=False)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """``cadenza`` served from a subprocess; ``start``, ``kill`` and ``start`` again."""

    def __init__(self, root: Path, api_key: str | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.db = root / "server.db"
        self.api_key = api_key
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.query = Query(self.db)
        self._log = root / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until it answers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
        env["CADENZA_HOME"] = str(self.root / "home")
        with self._log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _SERVE,
                    f"sqlite:///{self.db}",
                    str(self.port),
                    self.api_key or "",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self._log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not start: {self._log.read_text()}")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): no response to requests in progress."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
