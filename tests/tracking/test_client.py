"""TrackingClient on the embedded store: MlflowClient's names over runs of real flows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import cadenza
from cadenza import TrackingClient, flow, task
from cadenza.exceptions import ObjectNotFound
from cadenza.store.sql import SqlStore
from cadenza.tracking.entities import Metric, Param, RunTag
from cadenza.tracking.errors import (
    ArtifactNotFound,
    ExperimentAlreadyExists,
    InvalidFilter,
    ParamConflict,
)
from tests.tracking.helpers import current_task_run_id, empty_flow


@task
def trial(max_depth: int, rmse: float) -> str:
    cadenza.log_param("max_depth", max_depth)
    for step in range(5):
        cadenza.log_metric("val_loss", rmse + 1 / (step + 1), step=step)
    cadenza.log_metric("rmse", rmse)
    return current_task_run_id()


@flow
def train_taxi_model() -> list[str]:
    return [trial(5, 6.4), trial(10, 5.1), trial(20, 5.8)]


def test_search_the_best_runs_and_read_their_history(store: SqlStore) -> None:
    ids = train_taxi_model()
    client = TrackingClient()
    experiment = client.get_experiment_by_name("train-taxi-model")
    assert experiment is not None
    assert experiment.run_count == 4
    best = client.search_runs(
        experiment.experiment_id,
        "metrics.rmse < 6 and params.max_depth != '5'",
        order_by=["metrics.rmse ASC"],
        max_results=1,
    )
    assert [r.info.run_id for r in best] == [ids[1]]
    assert best.token is not None
    rest = client.search_runs(
        [experiment.experiment_id],
        "metrics.rmse < 6 and params.max_depth != '5'",
        order_by=["metrics.rmse ASC"],
        max_results=1,
        page_token=best.token,
    )
    assert [r.info.run_id for r in rest] == [ids[2]]
    history = client.get_metric_history(ids[1], "val_loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert history[0].value == pytest.approx(6.1)
    run = client.get_run(ids[0])
    assert run.data.params == {"max_depth": "5"}
    assert run.info.status == "COMPLETED"


def test_experiments(store: SqlStore) -> None:
    client = TrackingClient()
    first = client.create_experiment("taxi-fares", "fare regression")
    client.create_experiment("Taxi-Tips")
    with pytest.raises(ExperimentAlreadyExists):
        client.create_experiment("taxi-fares")
    assert client.get_experiment(first).description == "fare regression"
    with pytest.raises(ObjectNotFound, match="no experiment with id 'nope'"):
        client.get_experiment("nope")
    assert client.get_experiment_by_name("missing") is None
    names = [e.name for e in client.search_experiments()]
    assert names == ["Taxi-Tips", "taxi-fares"]
    assert [e.name for e in client.search_experiments("name LIKE 'taxi%'")] == ["taxi-fares"]
    assert [e.name for e in client.search_experiments("name ILIKE 'TAXI%'")] == [
        "Taxi-Tips",
        "taxi-fares",
    ]
    assert [e.name for e in client.search_experiments('name = "Taxi-Tips"')] == ["Taxi-Tips"]
    assert [e.name for e in client.search_experiments("name != 'Taxi-Tips'")] == ["taxi-fares"]
    assert len(client.search_experiments(max_results=1)) == 1
    with pytest.raises(InvalidFilter, match="name LIKE"):
        client.search_experiments("tags.x = 'y'")


def test_writing_on_runs_by_id(store: SqlStore, tmp_path: Path) -> None:
    run_id = empty_flow()
    client = TrackingClient()
    assert client.log_param(run_id, "alpha", 0.5) == 0.5
    client.log_param(run_id, "alpha", "0.5")
    with pytest.raises(ParamConflict):
        client.log_param(run_id, "alpha", 0.6)
    client.log_metric(run_id, "acc", 0.9, timestamp=1_750_000_000, step=2)
    client.log_metric(run_id, "acc", math.inf)
    client.set_tag(run_id, "owner", "ana")
    client.log_batch(
        run_id,
        metrics=[Metric("f1", 0.7, 1_750_000_001, 0)],
        params=[Param("beta", "1")],
        tags=[RunTag("owner", "bo")],
    )
    data = client.get_run(run_id).data
    assert data.params == {"alpha": "0.5", "beta": "1"}
    assert data.metrics == {"acc": 0.9, "f1": 0.7}  # the point of step 2 is the latest
    assert data.tags == {"owner": "bo"}
    unknown = "01890000-0000-7000-8000-00000000dead"
    with pytest.raises(ObjectNotFound, match=unknown):
        client.log_metric(unknown, "x", 1.0)
    with pytest.raises(ObjectNotFound):
        client.get_run(unknown)

    notes = tmp_path / "notes.txt"
    notes.write_text("ok")
    client.log_artifact(run_id, notes, "docs")
    assert [f.path for f in client.list_artifacts(run_id, "docs")] == ["docs/notes.txt"]
    copy = client.download_artifacts(run_id, "docs/notes.txt", tmp_path / "out")
    assert copy.read_text() == "ok"
    with pytest.raises(ArtifactNotFound):
        client.download_artifacts(run_id, "docs/missing.txt")
    with pytest.raises(ObjectNotFound):
        client.log_artifact(unknown, notes)


def test_the_tracking_client_has_the_registry_methods_on_its_store(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        client = TrackingClient(store=store)
        client.create_registered_model("taxi-duration", description="minutes")
        assert client.get_registered_model("taxi-duration").description == "minutes"
        assert [m.name for m in client.search_registered_models()] == ["taxi-duration"]
    finally:
        store.close()


def test_the_client_logs_on_the_flow_run_being_executed() -> None:
    @flow
    def training() -> str:
        run_id = cadenza.get_run_context().flow_run.id
        TrackingClient().log_batch(run_id, metrics=[Metric("rmse", 5.5, 0.0, 0)])
        TrackingClient().set_tag(run_id, "stage", "tuning")
        return run_id

    run_id = training()
    data = TrackingClient().get_run(run_id).data
    assert data.metrics == {"rmse": 5.5}
    assert data.tags["stage"] == "tuning"
