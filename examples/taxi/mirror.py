"""A small HTTP mirror of a folder of monthly files, on 127.0.0.1, that fails on purpose.

The demo serves its generated months through it so that the download step shows real
retries: the first request of each file gets ``503 Service Unavailable`` (or a cut-off
transfer), the next ones the file. The tests use it the same way, with more failures.

    with FlakyMirror(folder, failures=1) as mirror:
        train_duration_model(2023, 1, source=mirror.url)
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

Failure = Literal["status", "truncate"]


class FlakyMirror:
    """Serves the files of ``folder`` over HTTP, failing the first requests of each.

    Args:
        folder: the files served, by name (``/green_tripdata_2023-01.parquet``).
        failures: how many requests of each file fail before it is served; a large
            number makes a source that always fails.
        failure: ``"status"`` answers ``failure_status``; ``"truncate"`` announces the
            whole file and closes the connection after half of it.
        failure_status: the status of failed requests (503 by default).
        port: the port to listen on; 0 (the default) takes a free one.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        failures: int = 1,
        failure: Failure = "status",
        failure_status: int = 503,
        port: int = 0,
    ) -> None:
        if failures < 0:
            raise ValueError(f"failures must be 0 or more, got {failures}.")
        if failure not in ("status", "truncate"):
            raise ValueError(f"failure must be 'status' or 'truncate', got {failure!r}.")
        self.folder = Path(folder)
        self.failures = failures
        self.failure = failure
        self.failure_status = failure_status
        self.port = port
        self.requests: Counter[str] = Counter()
        """How many requests each file name received (also those answered 404)."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to pass as the pipeline's ``source``."""
        if self._server is None:
            raise RuntimeError("The mirror is not started: use it in a with block.")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FlakyMirror:
        """Listen on 127.0.0.1 and serve from a background thread.

        Raises:
            OSError: the port is taken.
        """
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the download step logs what it asked for

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="taxi-mirror", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FlakyMirror:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        name = unquote(urlsplit(request.path).path).lstrip("/")
        with self._lock:
            self.requests[name] += 1
            failing = self.requests[name] <= self.failures
        path = self.folder / name
        if "/" in name or not name or not path.is_file():
            request.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        if failing and self.failure == "status":
            request.send_error(self.failure_status)
            return
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if failing:  # truncate: half of what was announced, then close
            request.wfile.write(data[: len(data) // 2])
            request.close_connection = True
            return
        request.wfile.write(data)
