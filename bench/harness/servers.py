"""Servers in processes of their own: ``cadenza server start``, ``prefect server start`` and
``mlflow server``.

Each listens on a free port of 127.0.0.1 and runs in a process group of its own, so
that stopping it stops whatever it started. ``with server:`` waits until it answers
its health check (``GET /api/health``, MLflow's ``GET /health``) and stops it at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from harness.environments import WORKLOADS_DIR, Framework

START_TIMEOUT = 180.0
_LOG_TAIL_LINES = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server started by ``command`` with ``env``, its output in ``log_path``.

    Args:
        name: who it is, for messages.
        command: the command line; it must listen on ``port``.
        port: the port of 127.0.0.1 it listens on.
        env: its whole environment.
        log_path: where its output goes.
        health: the path that answers 200 once it serves.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        env: dict[str, str],
        log_path: Path,
        health: str = "/api/health",
    ) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.env = env
        self.log_path = log_path
        self.health = health
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None

    @property
    def url(self) -> str:
        """Its base URL, without ``/api``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start it and wait until its health check answers 200 (RuntimeError if it does not)."""
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._healthy():
                self.start_seconds = time.perf_counter() - started
                return
            time.sleep(0.1)
        self.stop()
        tail = self.log_path.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
        raise RuntimeError(
            f"{self.name} did not answer on {self.url}{self.health} within {START_TIMEOUT:.0f} s; "
            f"its output (bench/out/logs/{self.log_path.name}) ends with:\n" + "\n".join(tail)
        )

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}{self.health}", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """Stop its process group: SIGTERM, then SIGKILL after 20 s."""
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # anything the server left in its group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process = None


def cadenza_server(
    framework: Framework, database_url: str, home: Path, log_path: Path
) -> ServerProcess:
    """``cadenza server start`` serving ``database_url``, with ``home`` as CADENZA_HOME."""
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = framework.environment(home)
    env["CADENZA_DATABASE_URL"] = database_url
    command = [str(framework.python), "-m", "cadenza.cli.main", "server", "start"]
    return ServerProcess("cadenza server", [*command, "--port", str(port)], port, env, log_path)


def prefect_server(
    framework: Framework,
    database: Path,
    home: Path,
    log_path: Path,
    *,
    services: bool = True,
) -> ServerProcess:
    """``prefect server start`` on the SQLite file ``database``, with ``home`` as PREFECT_HOME.

    It runs through ``workloads/prefect_server.py``, which adds the ``Server-Timing``
    header and changes nothing else. Without ``services`` only its web server runs
    (``--no-services``). Its analytics are off: they would reach out of the machine.
    """
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = framework.environment(home)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{database}"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    command = [
        str(framework.python),
        str(WORKLOADS_DIR / "prefect_server.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if not services:
        command.append("--no-services")
    return ServerProcess("prefect server", command, port, env, log_path)


def mlflow_server(
    framework: Framework, database: Path, home: Path, log_path: Path
) -> ServerProcess:
    """``mlflow server`` with one worker on the SQLite file ``database``, artifacts in ``home``.

    One worker: with more, uvicorn does not set TCP_NODELAY on its sockets, which adds
    ~40 ms to every small request. Its job runner (huey consumers for its GenAI jobs,
    none of which tracking uses) is off, as Prefect's services are in the run-page
    workloads: its six consumer processes would compete with the client for the cores.
    """
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = framework.environment(home)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    command = [
        str(framework.python),
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{database}",
        "--artifacts-destination",
        str(home / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    return ServerProcess("mlflow server", command, port, env, log_path, health="/health")
