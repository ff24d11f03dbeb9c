"""The tracking and registry workloads of ``make bench``, run as the harness runs them, on
cadenza and plain Python at small sizes: each writes its figures, and every metric point
it logs is in the database afterwards (on the embedded file, and on a real cadenza
server in another process). Nothing here is timed; MLflow, in a virtualenv of its own,
is left to ``make bench``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import environments
from harness.processes import ProcessRun, run_workload
from harness.recording import count_metric_points, count_rows
from harness.servers import cadenza_server

pytestmark = pytest.mark.slow

TIMEOUT = 100.0


def run(
    tmp_path: Path, workload: str, framework: str, n: int, env: dict[str, str] | None = None
) -> tuple[ProcessRun, Path]:
    """One process of ``workload`` in the home ``tmp_path / framework``; it must succeed."""
    chosen = environments.cadenza() if framework == "cadenza" else environments.plain()
    home = tmp_path / framework
    log = tmp_path / f"{workload}-{framework}.log"
    done = run_workload(workload, chosen, n, home, log, TIMEOUT, env)
    assert done.ok, log.read_text()
    return done, home


@pytest.mark.parametrize("framework", ["cadenza", "plain"])
@pytest.mark.parametrize("workload", ["log_metric", "log_batch"])
def test_every_point_logged_is_in_the_database(
    tmp_path: Path, workload: str, framework: str
) -> None:
    done, home = run(tmp_path, workload, framework, 200)
    assert done.figures["points"] == 201  # the warm-up's point and the timed run's
    assert count_metric_points(framework, home) == 201
    assert done.figures["done_seconds"] >= done.figures["calls_seconds"] > 0
    assert "tasks" not in done.figures  # no task runs to look for


def test_log_metric_against_a_server_records_every_point_there(tmp_path: Path) -> None:
    database = tmp_path / "server.db"
    home, log = tmp_path / "server-home", tmp_path / "server.log"
    server = cadenza_server(environments.cadenza(), f"sqlite:///{database}", home, log)
    with server:
        done, home = run(tmp_path, "log_metric", "cadenza", 150, {"CADENZA_API_URL": server.url})
    assert count_metric_points("cadenza", home, database) == done.figures["points"] == 151
    assert not (home / "cadenza.db").exists()  # nothing went to the embedded file


@pytest.mark.parametrize("framework", ["cadenza", "plain"])
def test_runs_are_created_then_found_by_the_search(tmp_path: Path, framework: str) -> None:
    created, home = run(tmp_path, "runs", framework, 40)
    assert created.figures["runs"] == 41
    assert count_metric_points(framework, home) == created.figures["points"] == 5 * 41
    params = "run_params" if framework == "cadenza" else "params"
    assert count_rows(home / f"{framework}.db", params) == 5 * 41
    searched, _ = run(tmp_path, "search_runs", framework, 2, {"BENCH_RUNS": "40"})
    # rmse = (i * 7919 % 1000) / 1000 is below 0.5 for 20 of the runs 0..39, and for the
    # warm-up's run 0; the ordered search returns at most 100.
    assert searched.figures["search_rows"] == 21
    assert searched.figures["first_rows"] == 21
    assert len(searched.figures["search_samples"]) == 2


def test_search_of_a_home_without_runs_fails_with_a_message(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    log = tmp_path / "search.log"
    env = {"BENCH_RUNS": "10"}
    done = run_workload("search_runs", environments.cadenza(), 1, home, log, TIMEOUT, env)
    assert not done.ok
    assert "there is no experiment 'many-runs': run runs.py in this home first" in log.read_text()


@pytest.mark.parametrize("framework", ["cadenza", "plain"])
def test_registry_times_every_step_and_predicts_as_the_trained_model(
    tmp_path: Path, framework: str
) -> None:
    done, home = run(tmp_path, "registry", framework, 1)
    steps = ["log_model", "load_model", "predict"]
    if framework == "cadenza":
        steps += ["log_model_given", "log_model_example", "register_model", "set_alias"]
    for step in steps:
        assert len(done.figures[f"{step}_samples"]) == 1, step
    assert done.figures["max_prediction_difference"] <= 1e-5
    assert done.figures["trees"] == 50
    assert done.figures["features"] == 8
    if framework == "cadenza":
        # the warm-up round and the timed one each registered a version
        assert count_rows(home / "cadenza.db", "model_versions") == 2
