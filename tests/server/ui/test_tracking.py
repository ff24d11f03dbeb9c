"""The tracking pages in a real browser: experiments, an experiment's runs (columns,
sorting, filtering, pages, comparison, charts), metric histories, and the tracking
sections and files of run pages.

The store is filled by running ``tracking_pipeline.py`` in a subprocess; the server is
``cadenza server start`` with an API key, as for the other UI tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.ui.conftest import (
    API_KEY,
    HERE,
    PageErrors,
    Server,
    _require_browser,
    clean_env,
    login,
)

PIPELINE = HERE / "tracking_pipeline.py"


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    _require_browser()
    root = tmp_path_factory.mktemp("tracking-ui")
    done = subprocess.run(
        [sys.executable, str(PIPELINE), "seed", str(root)],
        env=clean_env(root / "home"),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ids: dict[str, Any] = json.loads((root / "tracking_ids.json").read_text())
    srv = Server(root, root / "home", API_KEY)
    srv.start()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    experiments = httpx.get(srv.url + "/api/experiments", headers=headers).json()["items"]
    ids["experiment"] = next(e["experiment_id"] for e in experiments if e["name"] == "tune-taxi")
    tasks = httpx.get(f"{srv.url}/api/flow_runs/{ids['flow']}/task_runs", headers=headers).json()
    ids["report"] = next(t["id"] for t in tasks["items"] if t["name"].startswith("report"))
    yield srv, ids
    srv.stop()


@pytest.fixture
def tab(browser_context: Any, tracked: tuple[Server, dict[str, Any]]) -> Iterator[Any]:
    browser_context.clear_cookies()
    login(browser_context, tracked[0])
    page = browser_context.new_page()
    errors = PageErrors()
    page.on("console", errors.console)
    page.on("pageerror", errors.page_error)
    yield page
    page.close()
    assert not errors.errors, errors.errors


def column_texts(tab: Any, header: str) -> list[str]:
    """The cells of the runs table under the header whose text contains ``header``."""
    headers = tab.locator("#runs-table thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if header in h)
    return tab.locator(f"#runs-table tbody td:nth-child({index + 1})").all_inner_texts()


def test_experiments_list_and_an_experiments_runs(
    tab: Any, tracked: tuple[Server, dict[str, Any]], screenshot: Any
) -> None:
    server, ids = tracked
    tab.goto(server.url + "/")
    tab.click("nav >> text=Experiments")
    tab.wait_for_url(server.url + "/experiments")
    row = tab.locator("#experiments tbody tr", has_text="tune-taxi")
    assert row.locator("td.num").inner_text() == "5"  # the flow run and four trials
    row.locator("a").click()
    tab.wait_for_url(f"**/experiments/{ids['experiment']}")
    # Default columns: every param and metric; the report task logged none, so it is
    # not a run of the experiment.
    assert tab.locator("#runs-table tbody tr").count() == 5
    headers = " ".join(tab.locator("#runs-table thead th").all_inner_texts())
    for key in ("max_depth", "learning_rate", "model", "n_trials", "rmse", "mae", "val_loss"):
        assert key in headers
    # The parameter that holds markup is shown as text.
    assert "<script>alert(1)</script>" in column_texts(tab, "model")
    screenshot(tab, "experiment")


def test_sorting_filtering_columns_and_pages_live_in_the_url(
    tab: Any, tracked: tuple[Server, dict[str, Any]]
) -> None:
    server, ids = tracked
    tab.goto(f"{server.url}/experiments/{ids['experiment']}")
    tab.click("#runs-table thead a:has-text('rmse')")
    tab.wait_for_url("**order=metrics.rmse+ASC*")
    rmse = [float(v) for v in column_texts(tab, "rmse") if v != "-"]
    assert rmse == sorted(rmse) and len(rmse) == 4
    assert column_texts(tab, "rmse")[-1] == "-"  # the flow run has no rmse: last
    tab.click("#runs-table thead a:has-text('rmse')")
    tab.wait_for_url("**order=metrics.rmse+DESC*")
    desc = [float(v) for v in column_texts(tab, "rmse") if v != "-"]
    assert desc == sorted(desc, reverse=True)

    tab.fill("input[name=filter]", 'metrics.rmse < 7 and params.max_depth != "5"')
    tab.click("#run-search button[type=submit]")
    tab.wait_for_url("**filter=*")
    assert len(column_texts(tab, "rmse")) == 3
    assert "order=metrics.rmse+DESC" in tab.url  # the order is kept

    tab.click("summary:has-text('Columns')")
    for box in tab.locator("input[name=col]").all():
        value = box.get_attribute("value")
        if value in ("params.max_depth", "metrics.rmse"):
            box.check()
        else:
            box.uncheck()
    tab.click("#apply-columns")
    tab.wait_for_url("**columns=*")
    headers = tab.locator("#runs-table thead th").all_inner_texts()
    assert any("max_depth" in h for h in headers) and any("rmse" in h for h in headers)
    assert not any("learning_rate" in h for h in headers)
    # Reloading the URL gives the same page: filter, order and columns are in it.
    tab.goto(tab.url)
    assert len(tab.locator("#runs-table thead th").all_inner_texts()) == len(headers)
    assert len(column_texts(tab, "rmse")) == 3

    tab.fill("input[name=filter]", "params.max_depth = 5")
    tab.click("#run-search button[type=submit]")
    error = tab.locator("#filter-error")
    assert "quote it" in error.inner_text()
    assert "A filter is comparisons joined by AND" in error.inner_text()


def test_pages_of_runs(tab: Any, tracked: tuple[Server, dict[str, Any]]) -> None:
    server, ids = tracked
    base = f"{server.url}/experiments/{ids['experiment']}?order=metrics.rmse+ASC&size=2"
    tab.goto(base)
    seen = []
    while True:
        seen += tab.locator("#runs-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.runId)"
        )
        if tab.locator("#next-page").count() == 0:
            break
        tab.click("#next-page")
        assert "size=2" in tab.url and "order=metrics.rmse+ASC" in tab.url
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen[:4] != ids["trials"]  # sorted by rmse, not in creation order
    tab.goto(f"{server.url}/experiments/{ids['experiment']}?page=bogus")
    assert "Invalid page token" in tab.locator("#filter-error").inner_text()


def test_comparing_selected_runs_highlights_differences(
    tab: Any, tracked: tuple[Server, dict[str, Any]], screenshot: Any
) -> None:
    server, ids = tracked
    tab.goto(f"{server.url}/experiments/{ids['experiment']}?order=metrics.rmse+ASC")
    boxes = tab.locator("#runs-table tbody input[name=runs]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    boxes.nth(2).check()
    tab.click("#compare-button")
    tab.wait_for_url("**/compare?runs=*")
    assert tab.locator("h1").inner_text() == "Compare 3 runs"
    depth = tab.locator("#compare-table tr[data-key='params.max_depth']")
    assert "differs" in (depth.get_attribute("class") or "")
    stage = tab.locator("#compare-table tr[data-key='tags.stage']")
    assert "differs" not in (stage.get_attribute("class") or "")
    chart = tab.locator("#history-chart")
    chart.wait_for()
    assert chart.get_attribute("data-drawn") == "3"
    assert tab.locator("#history-chart .chart-legend li").count() == 3
    box = tab.locator("#history-chart canvas").bounding_box()
    assert box is not None and box["height"] == 320
    screenshot(tab, "compare")
    tab.select_option("select[name=key]", "rmse")
    tab.click("text=Show")
    tab.wait_for_url("**key=rmse*")
    assert tab.locator("h2:has-text('History of')").inner_text() == "History of rmse"


def test_metric_history_and_scatter_charts_show_points_on_hover(
    tab: Any, tracked: tuple[Server, dict[str, Any]], screenshot: Any
) -> None:
    server, ids = tracked
    trial = ids["trials"][0]
    tab.goto(f"{server.url}/task-runs/{trial}")
    tab.click("#run-metrics a:has-text('val_loss')")
    tab.wait_for_url("**/metrics?runs=*key=val_loss")
    assert tab.locator("#points tbody tr").count() == 30
    canvas = tab.locator("#history-chart canvas")
    box = canvas.bounding_box()
    assert box is not None
    # Hover along the curve until the tooltip names a step.
    tip = tab.locator("#history-chart .chart-tip")
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        for y in range(10, int(box["height"]) - 40, 6):
            tab.mouse.move(box["x"] + 64 + (box["width"] - 82) * fraction, box["y"] + y)
            if tip.is_visible():
                break
        if tip.is_visible():
            break
    assert tip.is_visible()
    assert "step" in tip.inner_text()
    screenshot(tab, "metric-history")

    tab.goto(f"{server.url}/experiments/{ids['experiment']}?x=params.max_depth&y=metrics.rmse")
    scatter = tab.locator("#scatter-chart")
    scatter.wait_for()
    assert scatter.get_attribute("data-drawn") == "4"
    data = json.loads(tab.locator("#scatter-data").text_content())
    assert data["numeric_x"] is True
    assert sorted(p["x"] for p in data["points"]) == [5.0, 10.0, 20.0, 40.0]
    screenshot(tab, "scatter")


def test_run_pages_show_tracking_and_files(
    tab: Any, tracked: tuple[Server, dict[str, Any]], screenshot: Any
) -> None:
    server, ids = tracked
    tab.goto(f"{server.url}/runs/{ids['flow']}")
    tracking = tab.locator("#tracking")
    assert tracking.locator("#run-params").inner_text().split() == ["n_trials", "4"]
    datasets = tracking.locator("#run-datasets tbody tr")
    assert datasets.count() == 1
    assert "taxi-2024-01" in datasets.inner_text()
    assert "training" in datasets.inner_text()
    tracking.locator("#experiment-link").click()
    tab.wait_for_url(f"**/experiments/{ids['experiment']}")

    tab.goto(f"{server.url}/task-runs/{ids['report']}")
    files = tab.locator("#run-files tbody tr")
    assert files.locator("td.mono").all_inner_texts() == [
        "report/best.json",
        "report/curve.png",
        "report/page.html",
        "report/summary.txt",
    ]
    screenshot(tab, "task-run-files")
    tab.click("#run-files a:has-text('report/best.json')")
    preview = tab.locator("#file-preview pre.file-text")
    assert json.loads(preview.inner_text())["note"] == "<script>alert(1)</script>"
    tab.click(".crumbs a[href$='/report']")
    tab.click("#file-preview a:has-text('curve.png')")
    image = tab.locator("#file-preview img.preview-image")
    image.wait_for()
    assert tab.evaluate("document.querySelector('img.preview-image').naturalWidth") > 100
    screenshot(tab, "file-image")
    with tab.expect_download() as info:
        tab.click("#download")
    assert info.value.suggested_filename == "curve.png"
    tab.goto(f"{server.url}/files/{ids['report']}/report/page.html")
    assert "No preview" in tab.locator("#file-preview").inner_text()


def test_files_need_a_login_and_bad_paths_are_refused(
    tracked: tuple[Server, dict[str, Any]],
) -> None:
    server, ids = tracked
    anonymous = httpx.get(f"{server.url}/files/{ids['report']}/report/summary.txt")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}) as api:
        climbing = api.get(f"/api/runs/{ids['report']}/artifacts/report/%2E%2E/%2E%2E/x")
        assert climbing.status_code == 400
        assert api.get(f"/api/runs/{ids['flow']}/artifacts/report/summary.txt").status_code == 404
        listing = api.get(f"/api/runs/{ids['report']}/artifacts", params={"path": "report"}).json()
        assert [f["path"] for f in listing["files"]][:2] == ["report/best.json", "report/curve.png"]
