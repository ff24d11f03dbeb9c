"""The deployment pages in a real browser: the list, a deployment's schedules and next
runs, the run-now form made from its parameters (errors shown in the form), the
schedule toggle, and the work pools page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from cadenza import flow
from cadenza.deploy.deployments import DeploymentSchedule, build_deployment
from cadenza.deploy.schedules import Cron
from cadenza.deploy.serialize import deployment_json
from tests.server.ui.conftest import API_KEY, Server


@flow
def monthly_report(year: int, month: int = 1, region: str = "eu", dry_run: bool = False) -> None:
    """Make the monthly report."""


@pytest.fixture(scope="module")
def deployment(server: Server) -> dict[str, Any]:
    api = httpx.Client(
        base_url=server.url + "/api", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    )
    with api:
        if api.get("/work_pools/reports").status_code == 404:
            made = api.post("/work_pools", json={"name": "reports", "concurrency_limit": 2})
            assert made.status_code == 201, made.text
        d = build_deployment(
            monthly_report,
            "monthly",
            work_pool_name="reports",
            entrypoint="reports.py:monthly_report",
            schedules=[DeploymentSchedule(Cron("0 9 3 * *", "Europe/Zurich"))],
            parameters={"region": "ch"},
        )
        saved = api.post("/deployments", json=deployment_json(d))
        assert saved.status_code == 200, saved.text
        body: dict[str, Any] = saved.json()
        resumed = api.post(f"/deployments/{body['id']}/resume")  # creates its next runs
        assert resumed.status_code == 200, resumed.text
        return body


def test_the_deployment_list_and_page_show_schedules_and_next_runs(
    page: Any, server: Server, deployment: dict[str, Any], screenshot: Any
) -> None:
    page.goto(server.url + "/deployments")
    page.click("a.deployment-link:has-text('monthly-report/monthly')")
    page.wait_for_url(f"{server.url}/deployments/{deployment['id']}")
    assert page.locator("#schedules .schedule").inner_text() == "cron 0 9 3 * * (Europe/Zurich)"
    due = page.locator("table.next-runs tbody tr")
    assert due.count() == 3
    first = due.first.locator("time").get_attribute("datetime") or ""
    moment = dt.datetime.fromisoformat(first.replace("Z", "+00:00"))
    assert (moment.day, moment.minute) == (3, 0)
    assert moment.hour in (7, 8)  # 09:00 in Zurich, in summer or winter time
    # The form follows the flow's parameters, with the deployment's defaults.
    assert page.locator("#param-year").input_value() == ""
    assert page.locator("#param-region").input_value() == "ch"
    assert page.locator("#param-dry_run").get_attribute("type") == "checkbox"
    assert "(required)" in page.locator("label[for=param-year]").inner_text()
    screenshot(page, "deployment")


def test_run_now_shows_errors_in_the_form_then_creates_the_run(
    page: Any, server: Server, deployment: dict[str, Any]
) -> None:
    page.goto(f"{server.url}/deployments/{deployment['id']}")
    page.fill("#param-year", "last year")
    page.fill("#param-month", "4")
    page.click("#run-now-button")
    error = page.locator(".field.invalid .field-error")
    assert error.inner_text() == "parameter 'year' must be integer, got \"last year\""
    assert page.locator("#param-month").input_value() == "4"  # what was entered stays
    assert "Its parameters:" in page.locator("#form-error").inner_text()
    page.fill("#param-year", "2024")
    page.check("#param-dry_run")
    page.fill("#start-in", "1h")
    page.click("#run-now-button")
    page.wait_for_url(f"{server.url}/runs/*")
    assert "Created flow run" in page.locator(".flash").inner_text()
    assert page.locator("h1 .badge").inner_text() == "Scheduled"
    params = page.locator("section.card:has(h2:has-text('Parameters'))").inner_text()
    assert "2024" in params and "ch" in params and "true" in params


def test_the_schedule_toggle_pauses_and_resumes(
    page: Any, server: Server, deployment: dict[str, Any]
) -> None:
    page.goto(f"{server.url}/deployments/{deployment['id']}")
    page.click("#schedule-toggle")
    assert page.locator("#schedule-status").inner_text() == "Paused"
    assert "Schedules paused" in page.locator(".flash").inner_text()
    assert page.locator("table.next-runs tbody tr").count() == 1  # the run made by hand
    page.click("#schedule-toggle")
    assert page.locator("#schedule-status").inner_text() == "Active"
    assert page.locator("table.next-runs tbody tr").count() == 4


def test_the_work_pools_page_lists_queues_and_deployments(
    page: Any, server: Server, deployment: dict[str, Any]
) -> None:
    page.goto(server.url + "/work-pools")
    pool = page.locator("#pool-reports")
    assert "limit 2" in pool.inner_text()
    assert pool.locator("table.queues tbody tr").inner_text().split() == [
        "1",
        "default",
        "-",
        "active",
    ]
    pool.locator("a:has-text('monthly-report/monthly')").click()
    page.wait_for_url(f"{server.url}/deployments/{deployment['id']}")
