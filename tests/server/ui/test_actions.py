"""The run page's buttons, through the server's API: retry a failed run, cancel one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server.ui.conftest import Server, wait_for
from tests.server.ui.test_live import _running_run_id


def test_retry_resumes_a_failed_run_until_it_completes(
    page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    page.goto(f"{server.url}/runs/{seeded['flaky_training']}")
    assert page.locator("h1 .badge").inner_text() == "Failed"
    page.click("#retry-button")
    page.wait_for_url(f"{server.url}/runs/{seeded['flaky_training']}?watch=1")
    assert "Retry requested" in page.locator(".flash").inner_text()
    # The page follows the run (it reloads when the state changes) until it completes.
    page.locator("h1 .badge", has_text="Completed").wait_for(timeout=60_000)
    assert page.locator("#retry-button").count() == 0
    history = page.locator("table.history").inner_text()
    assert history.count("Failed") == 1 and "Completed" in history
    screenshot(page, "run-retried")

    # The resumed attempt took the prepare step's persisted result: Cached, with provenance.
    page.click("#task-runs a:has-text('prepare-0') >> nth=-1")
    result = page.locator("#result")
    assert page.locator("h1 .badge").inner_text() == "Cached"
    assert "cached from" in result.inner_text().lower()
    assert "cache key" in result.inner_text().lower()
    result.locator("dd a").first.click()  # the task run that produced the result
    assert page.locator("h1 .badge").inner_text() == "Completed"
    assert "location" in page.locator("#result").inner_text().lower()


def test_cancel_stops_a_running_flow(
    page: Any, server: Server, ui_root: Path, run_script: Any
) -> None:
    proc = run_script("long", str(ui_root / "never-stops"))
    run_id = wait_for(lambda: _running_run_id(server, "long-running"), timeout=30)
    page.goto(f"{server.url}/runs/{run_id}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-button")
    assert "Cancellation requested" in page.locator(".flash").inner_text()
    page.locator("h1 .badge", has_text="Cancelled").wait_for(timeout=60_000)
    assert wait_for(lambda: proc.poll() is not None, timeout=30)
    assert page.locator("#cancel-button").count() == 0


def test_a_refused_action_is_shown_on_the_page(
    page: Any, server: Server, seeded: dict[str, str]
) -> None:
    page.goto(f"{server.url}/runs/{seeded['etl']}")
    assert page.locator("#retry-button").count() == 0  # a completed run cannot be resumed
    # Posting anyway (a stale page): the API's refusal comes back as a message.
    page.evaluate(
        """(id) => { const f = document.createElement('form'); f.method = 'post';
                     f.action = '/runs/' + id + '/retry'; document.body.append(f); f.submit(); }""",
        seeded["etl"],
    )
    page.wait_for_url(f"{server.url}/runs/{seeded['etl']}?watch=1")
    assert page.locator(".flash-error").inner_text().startswith("Retry failed:")
