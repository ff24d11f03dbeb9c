"""The fluent functions inside flows and tasks, on the embedded store."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import cadenza
from cadenza import flow, task
from cadenza.store.sql import SqlStore
from cadenza.tracking.artifacts import download_artifacts, list_artifacts
from cadenza.tracking.errors import (
    InvalidArtifactPath,
    InvalidTrackingValue,
    NoActiveRun,
    ParamConflict,
)
from tests.tracking.helpers import current_flow_run_id, current_task_run_id


def test_tasks_log_on_their_task_run_and_flows_on_the_flow_run(store: SqlStore) -> None:
    @task
    def trial(max_depth: int) -> str:
        cadenza.log_params({"max_depth": max_depth, "model": "xgb"})
        cadenza.log_param("seed", 7)
        for step in range(3):
            cadenza.log_metric("loss", 1.0 / (step + 1), step=step)
        cadenza.log_metrics({"rmse": 6.0 - max_depth / 10, "mae": 3.0}, step=3)
        cadenza.set_tag("stage", "tuning")
        return current_task_run_id()

    @task
    def plain() -> str:
        return current_task_run_id()

    @flow
    def tune() -> dict[str, Any]:
        cadenza.log_param("dataset", "taxi-2024-01")
        cadenza.set_tags({"team": "data", "owner": "ana"})
        cadenza.log_metric("n_trials", 2)
        return {
            "flow": current_flow_run_id(),
            "trials": [trial(5), trial(10)],
            "plain": plain(),
        }

    ids = tune()
    flow_data = store.get_run_data(ids["flow"])
    assert flow_data.params == {"dataset": "taxi-2024-01"}
    assert flow_data.tags == {"owner": "ana", "team": "data"}
    assert flow_data.metrics == {"n_trials": 2.0}
    first = store.get_run_data(ids["trials"][0])
    assert first.params == {"max_depth": "5", "model": "xgb", "seed": "7"}
    assert first.metrics == {"loss": 1 / 3, "mae": 3.0, "rmse": 5.5}
    assert first.tags == {"stage": "tuning"}
    history = store.get_metric_history(ids["trials"][0], "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]

    experiment = store.get_experiment_by_name("tune")
    assert experiment is not None
    runs = store.search_runs([experiment.experiment_id], order_by=["metrics.rmse ASC"])
    # The flow run and the task runs that logged; not the plain task run.
    assert [r.info.run_id for r in runs] == [ids["trials"][1], ids["trials"][0], ids["flow"]]
    assert {r.info.kind for r in runs} == {"flow", "task"}
    assert all(r.info.experiment_id == experiment.experiment_id for r in runs)
    plain_run = store.get_run(ids["plain"])
    assert plain_run is not None
    assert plain_run.info.experiment_id is None
    assert not plain_run.data


def test_params_are_immutable_but_the_same_value_is_fine(store: SqlStore) -> None:
    @task
    def fit() -> str:
        cadenza.log_param("lr", 0.1)
        cadenza.log_param("lr", 0.1)
        cadenza.log_params({"lr": "0.1", "depth": 3})
        with pytest.raises(ParamConflict, match=r"Param 'lr' of run .* '0\.1' .* '0\.2'"):
            cadenza.log_param("lr", 0.2)
        with pytest.raises(ParamConflict, match="'depth'"):
            cadenza.log_params({"new": 1, "depth": 4})
        return current_task_run_id()

    @flow
    def pipeline() -> str:
        return fit()

    run_id = pipeline()
    # Nothing of a refused call was recorded.
    assert store.get_run_data(run_id).params == {"depth": "3", "lr": "0.1"}


def test_set_experiment_moves_the_flow_run_and_its_tracked_task_runs(store: SqlStore) -> None:
    @task
    def trial(i: int) -> str:
        cadenza.log_metric("score", i)
        return current_task_run_id()

    @flow
    def search() -> tuple[str, list[str]]:
        before = trial(1)
        cadenza.set_experiment("taxi-tuning")
        return current_flow_run_id(), [before, trial(2)]

    flow_id, trials = search()
    moved = store.get_experiment_by_name("taxi-tuning")
    assert moved is not None
    found = {r.info.run_id for r in store.search_runs([moved.experiment_id])}
    assert found == {flow_id, *trials}
    default = store.get_experiment_by_name("search")
    assert default is not None
    assert default.run_count == 0

    @flow
    def search_in_task() -> str:
        @task
        def pick() -> None:
            cadenza.set_experiment("from-a-task")

        pick()
        return current_flow_run_id()

    other = search_in_task()
    from_task = store.get_experiment_by_name("from-a-task")
    assert from_task is not None
    assert [r.info.run_id for r in store.search_runs([from_task.experiment_id])] == [other]


def test_a_task_outside_any_flow_joins_the_default_experiment(store: SqlStore) -> None:
    @task
    def alone() -> str:
        cadenza.log_metric("x", 1.5)
        return current_task_run_id()

    run_id = alone()
    from cadenza.reporting import get_reporter

    get_reporter().flush()
    run = store.get_run(run_id)
    assert run is not None
    default = store.get_experiment_by_name("Default")
    assert default is not None
    assert run.info.experiment_id == default.experiment_id
    assert run.data.metrics == {"x": 1.5}


def test_metric_values_steps_and_timestamps(store: SqlStore) -> None:
    @flow
    def values() -> str:
        import numpy as np

        cadenza.log_metric("nan", float("nan"))
        cadenza.log_metric("inf", math.inf, step=1)
        cadenza.log_metric("np", np.float32(0.5), step=np.int64(2))
        cadenza.log_metric("int", 3, timestamp=1_750_000_000)
        cadenza.log_metric("flag", True)
        return current_flow_run_id()

    run_id = values()
    data = store.get_run_data(run_id).metrics
    assert math.isnan(data.pop("nan"))
    assert data == {"inf": math.inf, "np": 0.5, "int": 3.0, "flag": 1.0}
    (point,) = store.get_metric_history(run_id, "int")
    assert (point.timestamp, point.step) == (1_750_000_000.0, 0)
    (np_point,) = store.get_metric_history(run_id, "np")
    assert np_point.step == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cadenza.log_metric("rmse", "4.2"), "must be a number"),
        (lambda: cadenza.log_metric("rmse", None), "must be a number"),
        (lambda: cadenza.log_metric("bad key!", 1.0), "has characters other than"),
        (lambda: cadenza.log_metric("", 1.0), "is empty"),
        (lambda: cadenza.log_metric("rmse", 1.0, step=1.5), "step of metric 'rmse'"),
        (lambda: cadenza.log_metric("rmse", 1.0, timestamp=1_750_000_000_000), "milliseconds"),
        (lambda: cadenza.log_metrics([("a", 1)]), "needs a dict"),
        (lambda: cadenza.log_param(3, "x"), "must be a str"),
        (lambda: cadenza.log_param("long", "x" * 6001), "at most 6000"),
        (lambda: cadenza.set_tag("k" * 251, "v"), "at most 250"),
        (lambda: cadenza.set_experiment(""), "non-empty str"),
        (lambda: cadenza.log_input([1, 2], name=3), "name must be a str"),
    ],
)
def test_bad_values_are_refused_on_the_callers_thread(call: Any, message: str) -> None:
    errors: list[Exception] = []

    @flow
    def bad() -> None:
        try:
            call()
        except InvalidTrackingValue as exc:
            errors.append(exc)

    bad()
    assert len(errors) == 1
    assert message in str(errors[0])


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("log_metric", lambda: cadenza.log_metric("rmse", 1.0)),
        ("log_metrics", lambda: cadenza.log_metrics({"rmse": 1.0})),
        ("log_param", lambda: cadenza.log_param("a", 1)),
        ("log_params", lambda: cadenza.log_params({"a": 1})),
        ("set_tag", lambda: cadenza.set_tag("a", 1)),
        ("set_tags", lambda: cadenza.set_tags({"a": 1})),
        ("set_experiment", lambda: cadenza.set_experiment("x")),
        ("log_input", lambda: cadenza.log_input([1])),
        ("log_text", lambda: cadenza.log_text("hi", "a.txt")),
        ("log_dict", lambda: cadenza.log_dict({}, "a.json")),
    ],
)
def test_outside_a_run_the_error_says_to_use_a_flow_or_the_client(name: str, call: Any) -> None:
    with pytest.raises(NoActiveRun) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{name} records on the current run, and there is none")
    assert "@flow or @task" in message
    assert "TrackingClient()" in message


def test_text_dicts_and_figures_become_files(store: SqlStore, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    @task
    def report() -> str:
        cadenza.log_text("rmse went down\n", "notes/summary.txt")
        cadenza.log_dict({"max_depth": 10, "name": "é"}, "config.json")
        cadenza.log_dict({"a": [1, 2]}, "config.yaml")
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 2, 1])
        cadenza.log_figure(fig, "plots/loss.png")
        cadenza.log_figure(fig, "plots/loss.svg")
        plt.close(fig)
        with pytest.raises(InvalidTrackingValue, match="extensions"):
            cadenza.log_figure(fig, "plots/loss.txt")
        with pytest.raises(InvalidTrackingValue, match="matplotlib figure"):
            cadenza.log_figure("not a figure", "x.png")
        with pytest.raises(InvalidArtifactPath, match=r"'\.\.' part"):
            cadenza.log_text("x", "../escape.txt")
        return current_task_run_id()

    @flow
    def pipeline() -> str:
        return report()

    run_id = pipeline()
    names = [f.path for f in list_artifacts(run_id)]
    assert names == ["config.json", "config.yaml", "notes", "plots"]
    assert [f.path for f in list_artifacts(run_id, "plots")] == [
        "plots/loss.png",
        "plots/loss.svg",
    ]
    local = download_artifacts(run_id, dst_path=tmp_path / "out")
    assert json.loads((local / "config.json").read_text()) == {"max_depth": 10, "name": "é"}
    assert (local / "config.yaml").read_text() == "a:\n- 1\n- 2\n"
    assert (local / "notes" / "summary.txt").read_text() == "rmse went down\n"
    assert (local / "plots" / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (local / "plots" / "loss.svg").read_bytes()


def test_log_input_records_fingerprint_schema_and_rows(store: SqlStore) -> None:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"trip_distance": [1.5, 2.0, 3.1], "passengers": [1, 2, 1]})

    @task
    def train() -> tuple[str, str]:
        digest = cadenza.log_input(
            frame, name="taxi-2024-01", source="data/yellow_2024-01.parquet", context="training"
        )
        cadenza.log_input(np.zeros((4, 2)), context="validation")
        cadenza.log_input(frame, source="s3://bucket/taxi/2024-02.parquet")
        return current_task_run_id(), digest

    @flow
    def pipeline() -> tuple[str, str]:
        return train()

    run_id, digest = pipeline()
    from cadenza.hashing import hash_objects

    assert digest == hash_objects(frame)
    first, second, third = store.list_datasets(run_id)
    assert (first.name, first.source, first.context) == (
        "taxi-2024-01",
        "data/yellow_2024-01.parquet",
        "training",
    )
    assert first.schema == {"trip_distance": "float64", "passengers": "int64"}
    assert first.num_rows == 3
    assert first.digest == digest
    assert (second.name, second.schema, second.num_rows) == ("dataset", {"array": "float64"}, 4)
    assert second.profile is not None
    assert second.profile["shape"] == [4, 2]
    assert third.name == "2024-02.parquet"
    run = store.get_run(run_id)
    assert run is not None
    assert [d.name for d in run.inputs] == ["taxi-2024-01", "dataset", "2024-02.parquet"]
