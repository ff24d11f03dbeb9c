"""A running flow seen from its page: the log tail grows, the page follows the state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.server.ui.conftest import API_KEY, Server, wait_for


def _running_run_id(server: Server, flow_name: str) -> str | None:
    """The id of the newest run of ``flow_name`` once it is Running, read from the UI."""
    page = httpx.get(
        f"{server.url}/runs",
        params={"flow": flow_name, "state": "RUNNING"},
        cookies={"cadenza_session": _cookie()},
    ).text
    found = re.search(r'href="/runs/([0-9a-f-]{36})"', page)
    return found.group(1) if found else None


def _cookie() -> str:
    from cadenza.server.ui.session import session_token

    return session_token(API_KEY)


def _heartbeats(page: Any) -> list[int]:
    text = page.locator("#log-lines").inner_text()
    return [int(n) for n in re.findall(r"heartbeat (\d+)", text)]


def test_live_tail_shows_new_lines_then_the_finished_run(
    page: Any, server: Server, ui_root: Path, run_script: Any, screenshot: Any
) -> None:
    stop = ui_root / "stop-live-tail"
    run_script("long", str(stop))
    run_id = wait_for(lambda: _running_run_id(server, "long-running"), timeout=30)

    page.goto(f"{server.url}/runs/{run_id}")
    assert page.locator("h1 .badge").inner_text() == "Running"
    assert page.locator("#log-tail.live").is_visible()
    assert page.locator("#cancel-button").is_visible()
    first = wait_for(lambda: _heartbeats(page))
    # New lines arrive without reloading the page, in order, each once.
    later = wait_for(lambda: (h := _heartbeats(page)) and h[-1] >= first[-1] + 5 and h, timeout=30)
    assert later == list(range(later[0], later[-1] + 1))
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    timeline = page.locator("#timeline")
    assert timeline.get_attribute("data-live") == "1"
    wait_for(lambda: int(timeline.get_attribute("data-rows") or 0) >= 3)
    screenshot(page, "run-live")

    stop.write_text("stop")
    page.locator("h1 .badge", has_text="Completed").wait_for(timeout=30_000)
    assert page.locator("#log-tail").inner_text() == "End of the log."
    final = _heartbeats(page)
    assert final == list(range(1, final[-1] + 1))
    assert "Finished in state Completed" in page.locator("#log-lines").inner_text()
