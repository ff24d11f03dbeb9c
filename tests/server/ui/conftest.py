"""A real server and a real browser for the UI tests.

The store is filled by running the flows of ``pipeline.py`` as a script (so that
their runs record an entrypoint the server can resume them from); the server is
``cadenza server start`` in a subprocess on a free port of 127.0.0.1, with an API
key; the browser is Debian's Chromium, headless, driven by Playwright.

Without ``/usr/bin/chromium`` the tests are skipped on a developer's machine and
fail in CI (``CI`` set), where ``make test`` installs it first.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).parent
PIPELINE = HERE / "pipeline.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_KEY = "ui-test-key-0123456789"
SERVER_COMMAND = [sys.executable, "-m", "cadenza.cli.main", "server", "start"]
SCREENSHOTS = Path(os.environ.get("CADENZA_UI_SCREENSHOTS", HERE / "screenshots"))


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is missing: the UI tests need Debian's chromium "
        "(apt-get install -y chromium; `make test` installs it)."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env["CADENZA_HOME"] = str(home)
    env.update(extra)
    return env


class Server:
    """``cadenza server start`` in a subprocess, over the seeded home."""

    def __init__(self, root: Path, home: Path, api_key: str | None) -> None:
        self.root = root
        self.home = home
        self.api_key = api_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        extra = {"CADENZA_SERVER_API_KEY": self.api_key} if self.api_key else {}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*SERVER_COMMAND, "--port", str(self.port), "--log-level", "warning"],
                env=clean_env(self.home, **extra),
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer in {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="session")
def ui_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui")


@pytest.fixture(scope="session")
def seeded(ui_root: Path) -> dict[str, str]:
    """The flow runs of ``pipeline.py``, run once: flow run ids by flow function."""
    _require_browser()
    home = ui_root / "home"
    done = subprocess.run(
        [sys.executable, str(PIPELINE), "seed", str(ui_root)],
        env=clean_env(home),
        cwd=ui_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ids: dict[str, str] = json.loads((ui_root / "ids.json").read_text())
    return ids


@pytest.fixture(scope="session")
def server(ui_root: Path, seeded: dict[str, str]) -> Iterator[Server]:
    srv = Server(ui_root, ui_root / "home", API_KEY)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 900},
        )
        context.set_default_timeout(15_000)
        yield context
        context.close()


class PageErrors:
    """JavaScript errors and Content-Security-Policy violations seen by a page."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def console(self, message: Any) -> None:
        text = message.text
        if text.startswith("Failed to load resource"):
            return  # a page answered 4xx on purpose; a missing script shows otherwise
        if message.type == "error":
            self.errors.append(f"console: {text}")
        elif "Content Security Policy" in text:
            self.errors.append(f"csp: {text}")

    def page_error(self, error: Any) -> None:
        self.errors.append(f"pageerror: {error}")


@pytest.fixture
def page(browser_context: Any, server: Server) -> Iterator[Any]:
    """A page logged in to the server; fails the test if it logged a script error."""
    browser_context.clear_cookies()
    login(browser_context, server)
    tab = browser_context.new_page()
    errors = PageErrors()
    tab.on("console", errors.console)
    tab.on("pageerror", errors.page_error)
    yield tab
    tab.close()
    assert not errors.errors, errors.errors


@pytest.fixture
def anonymous_page(browser_context: Any, server: Server) -> Iterator[Any]:
    """A page without the login cookie."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    errors = PageErrors()
    tab.on("pageerror", errors.page_error)
    yield tab
    tab.close()
    assert not errors.errors, errors.errors


def login(context: Any, server: Server) -> None:
    """Log ``context`` in through the login form."""
    tab = context.new_page()
    tab.goto(server.url + "/login")
    tab.fill("input[name=api_key]", API_KEY)
    tab.click("button[type=submit]")
    tab.wait_for_url(server.url + "/")
    tab.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """Save a full-page screenshot of a page under :data:`SCREENSHOTS`."""

    def take(tab: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def run_script(ui_root: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``pipeline.py`` with arguments in the background, over the seeded home."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, str(PIPELINE), *args],
            env=clean_env(ui_root / "home"),
            cwd=ui_root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        time.sleep(every)
