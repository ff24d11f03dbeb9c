"""The harness's choices around the tracking workloads: which frameworks take part, how
a competitor's virtualenv is pinned, and the tables against MLflow."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from harness import environments, report
from harness.plan import FRAMEWORKS, FULL, competitor, taking_part
from harness.rows import RecordingRow, Row
from harness.targets import LOG_METRIC

from tests.benchmarks.conftest import BENCH_DIR


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", BENCH_DIR / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tracking_is_compared_with_mlflow_and_the_rest_with_prefect() -> None:
    assert competitor("registry") == competitor("log_metric") == "mlflow"
    assert competitor("sequential") == competitor("ingestion") == "prefect"
    assert taking_part(FRAMEWORKS, ("runs", "log_batch")) == ("plain", "cadenza", "mlflow")
    assert taking_part(FRAMEWORKS, ("memory",)) == ("plain", "cadenza", "prefect")
    assert taking_part(FRAMEWORKS, FULL.workloads) == FRAMEWORKS


def test_only_tracking_installs_no_prefect_and_skip_mlflow_none_at_all() -> None:
    run = load_run()
    plan = run.build_plan(run.parse_args(["--only", "tracking", "--quick"]))
    assert plan.workloads == ("log_metric", "log_batch", "runs", "registry")
    assert plan.frameworks == ("plain", "cadenza", "mlflow")
    plan = run.build_plan(run.parse_args(["--only", "registry", "--skip-mlflow"]))
    assert plan.frameworks == ("plain", "cadenza")
    assert not plan.is_complete
    assert run.build_plan(run.parse_args([])).is_complete


def test_a_shared_package_is_pinned_unless_the_competitor_needs_an_older_one() -> None:
    found = environments.installed_versions(("numpy", "pyarrow"))
    numpy = int(found["numpy"].split(".")[0])
    pyarrow = int(found["pyarrow"].split(".")[0])
    same = environments.Competitor(
        "x", Path("venv"), "1", ("x==1",), ("numpy", "pyarrow", "no-such-package")
    )
    assert same.pins() == found
    assert same.all_requirements() == (
        "x==1",
        f"numpy=={found['numpy']}",
        f"pyarrow=={found['pyarrow']}",
    )
    older = environments.Competitor(
        "x", Path("venv"), "1", ("x==1",), ("numpy", "pyarrow"), below={"pyarrow": (pyarrow,)}
    )
    assert older.pins() == {"numpy": found["numpy"]}
    newer = environments.Competitor(
        "x", Path("venv"), "1", ("x==1",), ("numpy",), below={"numpy": (numpy + 1,)}
    )
    assert newer.pins() == {"numpy": found["numpy"]}


def test_a_competitor_is_usable_only_as_pinned() -> None:
    pinned = environments.installed_versions(("numpy",))
    mlflow = environments.Competitor(
        "mlflow", Path("venv"), "3.17.2", ("mlflow==3.17.2",), ("numpy",), limits={"fastapi": (1,)}
    )
    right = {"mlflow": "3.17.2", "fastapi": "0.99.1", **pinned}
    assert mlflow.usable(right)
    assert not mlflow.usable(None)
    assert not mlflow.usable({**right, "mlflow": "3.18.0"})
    assert not mlflow.usable({**right, "numpy": "1.0.0"})
    assert not mlflow.usable({**right, "fastapi": "1.0.0"})
    assert not mlflow.usable({**right, "fastapi": None})


def test_mlflow_rows_get_a_table_of_their_own_with_prefect_saying_why_not() -> None:
    rows = [
        Row("sequential_overhead_us", "sequential", "µs", {"cadenza": 20.0, "prefect": 6000.0}),
        Row(
            "log_metric_s",
            "10,000 single log_metric calls",
            "s",
            {"plain": 0.01, "cadenza": 0.2, "prefect": None, "mlflow": 40.0},
            {"prefect": "no tracking"},
            LOG_METRIC,
            competitor="mlflow",
        ),
    ]
    assert rows[1].ratio == 0.2 / 40.0
    assert rows[1].as_dict()["ratio_cadenza_to_mlflow"] == 0.2 / 40.0
    recording = [
        RecordingRow("sequential", {"cadenza": (10, 10), "prefect": (1, 10)}),
        RecordingRow("log_metric", {"cadenza": (3, 3), "mlflow": (2, 3)}, "metric points"),
    ]
    text = report.console(rows, recording)
    first, second, tasks, points = text.split("\n\n")
    assert "cadenza/prefect" in first.splitlines()[0]
    assert "mlflow" not in first
    assert "cadenza/mlflow" in second.splitlines()[0]
    line = second.splitlines()[2]
    assert "— (no tracking)" in line
    assert "40.00 s" in line
    assert "1/200" in line
    assert "PASS" in line
    assert "10/10 (100%)" in tasks
    assert "metric points in the database / logged" in points
    assert "2/3 (67%)" in points
