"""The pages in a real browser: dashboard, runs list and its filters, a run, a task run."""

from __future__ import annotations

from typing import Any

from tests.server.ui.conftest import Server


def test_dashboard_shows_runs_by_state_failures_and_running(
    page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    page.goto(server.url + "/")
    assert page.title() == "Dashboard · cadenza"
    chart = page.locator("svg.chart")
    assert chart.locator("rect.fill-completed").count() >= 1
    assert chart.locator("rect.fill-failed").count() >= 1
    failures = page.locator("section", has=page.get_by_role("heading", name="Recent failures"))
    assert failures.get_by_text("invalid literal for int()").is_visible()
    screenshot(page, "dashboard")

    failures.locator("a.run-link").first.click()
    page.wait_for_url(server.url + "/runs/*")
    assert page.locator("h1 .badge").inner_text() == "Failed"


def test_runs_list_filters_by_state_and_flow(
    page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    page.goto(server.url + "/runs")
    names = page.locator("table.runs tbody tr")
    assert names.count() >= 6  # the seeded runs and a subflow run
    screenshot(page, "runs")

    page.select_option("select[name=state]", "FAILED")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url("**/runs?*state=FAILED*")
    badges = page.locator("table.runs tbody .badge").all_inner_texts()
    assert badges and set(badges) == {"Failed"}
    flows = set(page.locator("table.runs tbody td:nth-child(2)").all_inner_texts())
    assert "nightly-report" in flows and flows <= {"nightly-report", "flaky-training"}

    page.select_option("select[name=flow]", "nightly-report")
    page.click("#run-filters button[type=submit]")
    assert page.locator("table.runs tbody tr").count() == 1

    page.select_option("select[name=state]", "COMPLETED")
    page.click("#run-filters button[type=submit]")
    assert page.get_by_text("No flow runs match these filters.").is_visible()
    page.click("text=Clear")
    assert page.locator("table.runs tbody tr").count() >= 6


def test_runs_list_hides_subflow_runs_and_filters_by_time(page: Any, server: Server) -> None:
    page.goto(server.url + "/runs")
    assert page.locator("table.runs tbody td:nth-child(2)", has_text="evaluate").count() == 1
    page.check("input[name=top]")
    page.click("#run-filters button[type=submit]")
    assert page.locator("table.runs tbody td:nth-child(2)", has_text="evaluate").count() == 0

    page.goto(server.url + "/runs?to=2000-01-01T00:00")
    assert page.get_by_text("No flow runs match these filters.").is_visible()
    page.goto(server.url + "/runs?span=1h")
    assert page.locator("table.runs tbody tr").count() >= 6
    page.goto(server.url + "/runs?from=yesterday")
    assert "'from' must be a date" in page.locator(".flash-error").inner_text()


def test_run_page_shows_timeline_subflow_logs_and_artifacts(
    page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    page.goto(f"{server.url}/runs/{seeded['etl']}")
    timeline = page.locator("#timeline[data-ready='1']")
    timeline.wait_for()
    assert timeline.get_attribute("data-rows") == "14"  # 12 task runs, the subflow and its task
    info = page.locator("#timeline-info").inner_text()
    assert "13 task runs" in info and "1 subflow runs" in info
    assert page.locator("#task-runs tbody tr").count() == 13
    assert page.locator("#task-counts").inner_text().split() == [
        "13",
        "in",
        "all",
        "13",
        "completed",
    ]
    logs = page.locator("#log-lines")
    assert "extracting rows of 2026-01-31" in logs.inner_text()
    assert "loading 10 rows into the warehouse" in logs.inner_text()
    assert page.locator("#log-tail").inner_text() == "End of the log."
    artifacts = page.locator("#artifacts")
    assert artifacts.locator("h1", has_text="ETL report").is_visible()  # markdown rendered
    assert artifacts.locator("td", has_text="sum").is_visible()  # a table artifact
    link = artifacts.get_by_role("link", name="ETL dashboard")
    assert link.get_attribute("href") == "https://example.com/dashboards/etl"
    params = page.locator("table.params")
    assert "2026-01-31" in params.inner_text()
    screenshot(page, "run")

    # Hovering a bar tells what it is; clicking it opens the task run.
    box = page.locator("canvas.timeline-canvas").bounding_box()
    bars = page.evaluate(
        """() => { const tl = document.getElementById('timeline').timeline;
                   const i = tl.data.name.indexOf('load-0');
                   return {x: tl.x(tl.data.start[i]) + 1, y: 56 + i * 22 + 11}; }"""
    )
    page.mouse.move(box["x"] + bars["x"], box["y"] + bars["y"])
    tip = page.locator(".timeline-tip")
    tip.wait_for(state="visible")
    assert "load-0" in tip.inner_text() and "Completed" in tip.inner_text()
    page.mouse.click(box["x"] + bars["x"], box["y"] + bars["y"])
    page.wait_for_url(server.url + "/task-runs/*")
    assert page.locator("h1 .run-name").inner_text() == "load-0"


def test_timeline_zooms_and_pans(page: Any, server: Server, seeded: dict[str, str]) -> None:
    page.goto(f"{server.url}/runs/{seeded['etl']}")
    page.locator("#timeline[data-ready='1']").wait_for()

    def view() -> list[float]:
        return page.evaluate(
            "(() => { const t = document.getElementById('timeline').timeline;"
            " return [t.v0, t.v1]; })()"
        )

    v0, v1 = view()
    page.click("button[data-zoom=in]")
    z0, z1 = view()
    assert abs((z1 - z0) - (v1 - v0) / 2) < 1e-6
    box = page.locator("canvas.timeline-canvas").bounding_box()
    page.mouse.move(box["x"] + 600, box["y"] + 120)
    page.mouse.down()
    page.mouse.move(box["x"] + 500, box["y"] + 120, steps=5)
    page.mouse.up()
    p0, p1 = view()
    assert p0 > z0 and abs((p1 - p0) - (z1 - z0)) < 1e-6
    page.click("button[data-zoom=fit]")
    assert view() == [v0, v1]


def test_retried_task_and_failed_run(
    page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    page.goto(f"{server.url}/runs/{seeded['train']}")
    page.locator("#timeline[data-ready='1']").wait_for()
    assert "1 retried" in page.locator("#timeline-info").inner_text()
    segments = page.evaluate("document.getElementById('timeline').timeline.data.segments")
    (attempts,) = segments.values()
    names = page.evaluate("document.getElementById('timeline').timeline.data.states")
    assert [names[code] for _, code in attempts] == [
        "Pending",
        "Running",
        "AwaitingRetry",
        "Retrying",
        "AwaitingRetry",
        "Retrying",
        "Completed",
    ]
    assert page.locator("#task-runs .retry-note").inner_text() == "2 retries"
    page.click("#task-runs a:has-text('download-0')")
    assert page.locator(".retry-note").inner_text() == "(2 retries)"
    history = page.locator("table.history").inner_text()
    assert history.count("AwaitingRetry") == 2
    assert "connection reset while downloading" in history
    screenshot(page, "task-run")

    page.goto(f"{server.url}/runs/{seeded['nightly_report']}")
    error = page.locator("#error")
    assert "ValueError: invalid literal for int()" in error.locator(".error-message").inner_text()
    assert "Traceback (most recent call last)" in error.locator("pre.traceback").inner_text()
    assert page.locator("#retry-button").is_visible()
    assert page.locator("#cancel-button").count() == 0
    screenshot(page, "failed-run")


def test_task_run_page_shows_inputs_and_links_to_upstream(
    page: Any, server: Server, seeded: dict[str, str]
) -> None:
    page.goto(f"{server.url}/runs/{seeded['etl']}")
    page.click("#task-runs a:has-text('load-0')")
    inputs = page.locator("table.params").inner_text()
    assert "rows" in inputs and "list" in inputs
    assert page.locator("#logs").get_by_text("loading 10 rows into the warehouse").is_visible()
    assert page.locator("#artifacts").get_by_text("What was loaded").is_visible()
    page.click(f"nav.crumbs a[href='/runs/{seeded['etl']}']")
    page.wait_for_url(f"{server.url}/runs/{seeded['etl']}")


def test_artifacts_list_and_page(page: Any, server: Server, screenshot: Any) -> None:
    page.goto(server.url + "/artifacts")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() >= 5
    assert page.get_by_role("link", name="etl-report").is_visible()
    screenshot(page, "artifacts")
    page.get_by_role("link", name="etl-report").click()
    assert page.locator(".artifact-body h1").inner_text() == "ETL report"


def test_unknown_run_is_a_page_not_found(page: Any, server: Server) -> None:
    response = page.goto(server.url + "/runs/01a20000-0000-7000-8000-000000000000")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "No such flow run"
