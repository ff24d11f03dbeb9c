"""User content reaches every page as text: a flow named and logging
``<script>alert(1)</script>``, and artifacts with HTML in markdown and table cells."""

from __future__ import annotations

from typing import Any

from tests.server.ui.conftest import Server
from tests.server.ui.pipeline import EVIL

OWN_SCRIPTS = ("/ui/static/vendor/htmx-", "/ui/static/app.js", "/ui/static/timeline.js")


def _assert_inert(page: Any) -> None:
    """No script but the UI's own, no element with an event handler or javascript: link."""
    sources = page.eval_on_selector_all("script", "els => els.map(e => e.src || e.textContent)")
    for source in sources:
        assert any(own in source for own in OWN_SCRIPTS), source
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
             .filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name))"""
    )
    assert handlers == []
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]
    assert page.locator("img").count() == 0


def test_html_in_names_logs_parameters_and_artifacts_is_shown_as_text(
    page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    run_page = f"{server.url}/runs/{seeded['evil']}"
    page.goto(run_page)
    page.locator("#timeline[data-ready='1']").wait_for()
    assert page.locator("h1 .run-name").inner_text() == EVIL
    assert page.locator("nav.crumbs").get_by_text(EVIL).is_visible()
    assert EVIL in page.locator("table.params").inner_text()
    logs = page.locator("#log-lines").inner_text()
    assert f"a log line with {EVIL}" in logs
    artifacts = page.locator("#artifacts")
    report = artifacts.locator("article", has_text="evil-report")
    assert report.locator("h1").inner_text() == f"Report {EVIL}"
    assert "<img src=x onerror=alert(1)>" in report.inner_text()
    assert report.locator("td", has_text="<b>bold</b>").count() == 1
    assert report.locator("b").count() == 0
    assert report.get_by_text("[click](javascript:alert(1))").is_visible()
    table = artifacts.locator("article", has_text="evil-table")
    assert table.locator("th", has_text="<th>name</th>").count() == 1
    assert table.locator("td", has_text=EVIL).count() == 1
    link = artifacts.locator("article", has_text="link artifact")
    assert link.locator("a", has_text=EVIL).count() == 0  # javascript: is not made a link
    assert EVIL in link.inner_text()
    _assert_inert(page)
    screenshot(page, "escaping")

    for path in (
        "/",
        "/runs",
        f"/runs?flow={EVIL}",
        "/artifacts",
        "/artifacts?key=evil-report",
    ):
        page.goto(server.url + path)
        _assert_inert(page)
    page.goto(f"{server.url}/runs?flow={EVIL}")
    assert page.locator("table.runs tbody a.run-link").inner_text() == EVIL
    page.click("table.runs tbody a.run-link")
    page.click("#task-runs a:has-text('echo_html-0')")
    assert EVIL in page.locator("table.params").inner_text()
    assert EVIL in page.locator("#log-lines").inner_text()
    _assert_inert(page)
    page.goto(server.url + "/artifacts?key=evil-table")
    page.get_by_role("link", name="evil-table").first.click()
    _assert_inert(page)
    assert dialogs == []


def test_pages_forbid_inline_scripts(page: Any, server: Server) -> None:
    response = page.goto(server.url + "/runs")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
