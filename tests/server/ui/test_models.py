"""The registry's pages in a real browser: the models list, a model with its versions and
history, a version with its lineage and its alias and stage forms, and the run page's
models."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.ui.conftest import API_KEY, HERE, Server, clean_env

SEED = HERE / "registry_seed.py"


@pytest.fixture(scope="module")
def registry_ids(ui_root: Path, server: Server) -> dict[str, Any]:
    """Models registered by real flows in the served home (once per module)."""
    done = subprocess.run(
        [sys.executable, str(SEED), str(ui_root)],
        env=clean_env(ui_root / "home"),
        cwd=ui_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ids: dict[str, Any] = json.loads((ui_root / "registry_ids.json").read_text())
    return ids


def test_models_list(page: Any, server: Server, registry_ids: Any, screenshot: Callable) -> None:
    page.goto(server.url + "/models")
    row = page.locator("#models tr", has_text="taxi-duration")
    assert row.locator("td").nth(1).inner_text() == "v3"
    assert "@champion: v2" in row.inner_text()
    assert "Production: v2" in row.inner_text()
    assert page.locator("nav a[aria-current=page]").inner_text() == "Models"
    screenshot(page, "models-list")


def test_model_page_has_versions_and_history(
    page: Any, server: Server, registry_ids: Any, screenshot: Callable
) -> None:
    page.goto(server.url + "/models")
    page.click("a.model-link:text('taxi-duration')")
    assert page.locator("h1").inner_text() == "taxi-duration"
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("td").nth(0).inner_text() == "v3"
    second = rows.nth(1).inner_text()
    assert "Production" in second
    assert "@champion" in second
    assert "train-taxi" in second
    history = page.locator("#model-history tbody tr")
    moves = [history.nth(i).inner_text() for i in range(history.count())]
    assert "stage None → Production" in moves[0]
    assert "bo" in moves[0]
    assert "@champion: v1 → v2" in moves[1]
    assert "better" in moves[1]
    assert "@champion: new → v1" in moves[2]
    screenshot(page, "model-page")


def test_version_page_shows_lineage(
    page: Any, server: Server, registry_ids: Any, screenshot: Callable
) -> None:
    page.goto(server.url + "/models/taxi-duration/versions/2")
    flow_run_id = registry_ids["flow_runs"]["2"]
    link = page.locator("#lineage-flow-run a")
    assert link.get_attribute("href") == f"/runs/{flow_run_id}"
    assert "train-taxi" in link.inner_text()
    assert "Completed" in page.locator("#lineage-flow-run").inner_text()
    assert page.locator("#lineage-params").inner_text().split() == [
        "alpha",
        "1.0",
        "model",
        "ridge",
    ]
    assert page.locator("#lineage-metrics").inner_text().split() == ["rmse", "4.25"]
    datasets = page.locator("#lineage-datasets").inner_text()
    assert "yellow-2024-01" in datasets
    assert "5d41402abc4b2a76" in datasets
    assert "training" in datasets
    assert "fit" in page.locator("#lineage-tasks").inner_text()
    assert "task run fit" in page.locator("#lineage").inner_text()
    assert len(page.locator("#code-version").inner_text()) >= 1
    signature = page.locator("#signature").inner_text()
    assert "trip_distance" in signature
    assert "double" in signature
    assert "scikit-learn==" in page.locator("#requirements").inner_text()
    # The description is text, not markup.
    assert "<script>alert(1)</script>" in page.locator(".page-head").inner_text()
    assert page.locator("main script").count() == 0
    screenshot(page, "model-version")


def test_setting_an_alias_and_a_stage_through_the_forms(
    page: Any, server: Server, registry_ids: Any, screenshot: Callable
) -> None:
    page.goto(server.url + "/models/taxi-duration/versions/3")
    page.fill("#set-alias input[name=alias]", "challenger")
    page.fill("#set-alias input[name=comment]", "try it")
    page.click("#set-alias button")
    page.wait_for_url("**/models/taxi-duration/versions/3")
    assert "@challenger now points at version 3" in page.locator(".flash").inner_text()
    assert "@challenger" in page.locator("#aliases").inner_text()
    page.select_option("#set-stage select", "Production")
    page.check("#set-stage input[name=archive_existing]")
    page.fill("#set-stage input[name=comment]", "rmse 4.0")
    page.click("#set-stage button")
    page.wait_for_url("**/models/taxi-duration/versions/3")
    assert page.locator("#stage").inner_text() == "Production"
    screenshot(page, "model-version-moved")
    with httpx.Client(
        base_url=server.url + "/api", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as api:
        two = api.get("/registered_models/taxi-duration/versions/2").json()
        assert two["current_stage"] == "Archived"
        history = api.get("/registered_models/taxi-duration/history", params={"version": 3})
        last = history.json()[-1]
        assert (last["to_value"], last["comment"]) == ("Production", "rmse 4.0")
        assert last["user"].startswith("web UI")
    page.fill("#set-alias input[name=alias]", "v9")
    page.click("#set-alias button")
    assert "not a valid alias" in page.locator(".flash").inner_text()


def test_forms_from_another_site_are_refused(server: Server, registry_ids: Any) -> None:
    response = httpx.post(
        server.url + "/models/taxi-duration/versions/1/stage",
        data={"stage": "Archived"},
        headers={"Origin": "http://elsewhere.example"},
        cookies={},
        follow_redirects=False,
    )
    assert response.status_code in (303, 403)
    with httpx.Client(
        base_url=server.url + "/api", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as api:
        assert api.get("/registered_models/taxi-duration/versions/1").json()["current_stage"] != (
            "Archived"
        )


def test_run_page_lists_the_models_the_run_produced(
    page: Any, server: Server, registry_ids: Any, screenshot: Callable
) -> None:
    flow_run_id = registry_ids["flow_runs"]["1"]
    page.goto(server.url + f"/runs/{flow_run_id}")
    section = page.locator("#models")
    assert "taxi-duration v1" in section.inner_text()
    assert "task run" in section.inner_text()
    screenshot(page, "run-page-models")
    section.locator("a", has_text="taxi-duration v1").click()
    page.wait_for_url("**/models/taxi-duration/versions/1")


def test_user_content_is_escaped(page: Any, server: Server, registry_ids: Any) -> None:
    page.goto(server.url + "/models")
    assert page.locator("a.model-link", has_text='<b>bold<b> & "co"').count() == 1
    assert page.locator("#models b").count() == 0
    page.locator("a.model-link", has_text='<b>bold<b> & "co"').click()
    assert page.locator("h1").inner_text() == '<b>bold<b> & "co"'
    page.goto(server.url + "/models/nothing-here")
    assert "No such registered model" in page.locator("h1").inner_text()
