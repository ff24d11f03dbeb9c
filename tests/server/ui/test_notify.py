"""Notifications in a real browser: creating an automation with the form, then seeing
what it sent when a flow fails.

The server here has a home of its own (the seeded runs of the other UI tests are
left alone); it is ``cadenza server start``, whose services evaluate automations and
deliver to a real HTTP receiver on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.notify.conftest import Receiver
from tests.server.ui.conftest import API_KEY, PageErrors, Server, clean_env, login, wait_for

FAILING_FLOW = """
from cadenza import flow

@flow(name="ui-failing")
def ui_failing():
    raise ValueError("the feature store is empty")

ui_failing(return_state=True)
"""


@pytest.fixture
def notify_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, tmp_path / "home", API_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def notify_page(browser_context: Any, notify_server: Server) -> Iterator[Any]:
    browser_context.clear_cookies()
    login(browser_context, notify_server)
    tab = browser_context.new_page()
    errors = PageErrors()
    tab.on("console", errors.console)
    tab.on("pageerror", errors.page_error)
    yield tab
    tab.close()
    assert not errors.errors, errors.errors


def test_create_an_automation_in_the_browser_and_see_what_it_sent(
    notify_page: Any, notify_server: Server, tmp_path: Path, screenshot: Any
) -> None:
    page, server = notify_page, notify_server
    receiver = Receiver().start()
    try:
        api = httpx.Client(
            base_url=server.url + "/api",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=30,
        )
        made = api.post(
            "/channels",
            json={
                "name": "ui-hook",
                "type": "webhook",
                "config": {"format": "slack"},
                "secrets": {"url": receiver.url},
            },
        )
        assert made.status_code == 201, made.text

        page.goto(server.url + "/automations")
        assert page.get_by_text("No automations yet.").is_visible()
        page.click("#new-automation")
        page.wait_for_url(server.url + "/automations/new")
        page.fill("input[name=name]", "ui-alerts")
        page.check("input[name=channels][value=ui-hook]")
        page.fill("input[name=flows]", "ui-failing")
        page.fill("input[name=subject]", "{{ flow.nope }}")
        page.fill("input[name=description]", "<b>not bold</b>")
        page.click("#create-automation")
        # A template that does not render: the form comes back with the error and
        # what was typed.
        assert "does not render" in page.locator("#form-error").inner_text()
        assert page.input_value("input[name=name]") == "ui-alerts"
        assert page.is_checked("input[name=channels][value=ui-hook]")
        page.fill("input[name=subject]", "UI alert: {{ flow.name }} {{ event }}")
        page.click("#create-automation")
        page.wait_for_url(server.url + "/automations")
        assert "Created automation ui-alerts." in page.locator(".flash").inner_text()
        row = page.locator("#automations tr[data-name=ui-alerts]")
        assert "a flow run enters Failed or Crashed or Recovered (flow ui-failing)" in (
            row.inner_text()
        )
        assert row.get_by_text("<b>not bold</b>").is_visible()  # shown as text, escaped
        screenshot(page, "automations")

        automation = api.get("/automations/ui-alerts").json()
        assert automation["trigger"]["states"] == ["Failed", "Crashed", "Recovered"]
        assert automation["channels"] == ["ui-hook"]

        script = tmp_path / "failing.py"
        script.write_text(FAILING_FLOW)
        done = subprocess.run(
            [sys.executable, str(script)],
            env=clean_env(server.home),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        wait_for(lambda: receiver.delivered(), timeout=30)
        (payload,) = [r["json"] for r in receiver.delivered()]
        assert payload["text"].startswith("*UI alert: ui-failing Failed*")

        page.goto(server.url + "/notifications")
        table = page.locator("#messages")
        assert "UI alert: ui-failing Failed" in table.inner_text()
        assert table.locator(".badge").first.inner_text() == "sent"
        page.click("#messages tbody tr >> nth=0 >> td >> nth=0 >> a")
        page.wait_for_url(server.url + "/notifications/*")
        assert "the feature store is empty" in page.locator("pre.message-body").inner_text()
        assert page.locator("#attempts tbody tr").count() == 1
        screenshot(page, "notification")

        page.goto(server.url + "/channels")
        assert "••••" in page.locator("#channels").inner_text()
        assert "cadenza-token" not in page.content()

        page.goto(server.url + "/automations")
        page.click("#automations tr[data-name=ui-alerts] button:has-text('Disable')")
        assert "Disabled automation ui-alerts." in page.locator(".flash").inner_text()
        assert api.get("/automations/ui-alerts").json()["enabled"] is False
        api.close()
    finally:
        receiver.stop()
