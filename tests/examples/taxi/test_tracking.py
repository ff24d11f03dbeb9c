"""What a training run records for tracking: the trials as runs of the experiment, the
flow run's params, metrics, tags and datasets, and the model version's lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadenza import TrackingClient
from cadenza.registry.client import RegistryClient
from cadenza.server.ui.model_lineage import lineage
from cadenza.store import get_store
from cadenza.tracking.datasets import describe
from examples.taxi import TrainingResult, locate_month, read_month, train_duration_model

EXPERIMENT = "train-duration-model"


@pytest.fixture
def result(months_dir: Path) -> TrainingResult:
    return train_duration_model(2023, 1, source=months_dir, trials=2)


def test_the_trials_are_runs_of_the_experiment_with_params_and_rmse(
    result: TrainingResult,
) -> None:
    client = TrackingClient()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    found = client.search_runs(
        [experiment.experiment_id],
        f'attributes.run_name LIKE "trial-%" and attributes.flow_run_id = "{result.flow_run_id}"',
        order_by=["metrics.rmse ASC"],
    )
    by_rmse = sorted(result.trials, key=lambda t: t.rmse)
    assert [r.info.run_name for r in found] == [f"trial-{t.number}" for t in by_rmse]
    for run, trial in zip(found, by_rmse, strict=True):
        assert run.info.kind == "task" and run.info.status == "COMPLETED"
        assert run.data.params == {k: str(v) for k, v in trial.params.items()}
        assert run.data.metrics["rmse"] == pytest.approx(trial.rmse)
        assert run.data.metrics["trees"] == trial.trees
        # The validation curve: one point per boosting round, the best one kept.
        curve = client.get_metric_history(run.info.run_id, "validation_rmse")
        assert [m.step for m in curve] == list(range(len(curve)))
        assert len(curve) >= trial.trees
        assert min(m.value for m in curve) == pytest.approx(trial.rmse, rel=1e-5)

    # The best trial's parameters are the final model's, and a filter finds it.
    best = client.search_runs(
        [experiment.experiment_id],
        f'metrics.rmse <= {by_rmse[0].rmse + 1e-9} and attributes.kind = "task"',
    )
    assert [r.info.run_name for r in best] == [f"trial-{by_rmse[0].number}"]
    assert result.params == by_rmse[0].params


def test_the_flow_run_records_the_final_model_and_the_months(
    result: TrainingResult, months_dir: Path
) -> None:
    client = TrackingClient()
    run = client.get_run(result.flow_run_id)
    assert run.info.kind == "flow"
    assert run.data.metrics["rmse"] == pytest.approx(result.rmse)
    assert run.data.metrics["train_rmse"] == pytest.approx(result.train_rmse)
    assert run.data.metrics["trees"] == result.model.trees
    assert "champion_rmse" not in run.data.metrics  # the first version had none to beat
    best = min(result.trials, key=lambda t: t.rmse)
    expected = {k: str(v) for k, v in result.params.items()}
    assert {k: run.data.params[k] for k in expected} == expected
    assert run.data.params["best_trial"] == str(best.number)
    assert run.data.params["encoder"] == "DictVectorizer"
    vectorizer = result.model.preprocessor.named_steps["vectorizer"]
    assert run.data.params["features"] == str(len(vectorizer.feature_names_))
    assert run.data.tags == {
        "year": "2023",
        "month": "1",
        "train_month": "2023-01",
        "validation_month": "2023-02",
        "model_name": "taxi-duration",
        "model_version": "1",
        "model_alias": "champion",
    }
    names = client.download_artifacts(result.flow_run_id, "features.json")
    assert '"PU_DO=' in Path(names).read_text()

    # Both months, with the fingerprint of the trips the model learned from.
    datasets = {d.context: d for d in client.list_datasets(result.flow_run_id)}
    assert set(datasets) == {"training", "validation"}
    for context, (year, month) in (("training", (2023, 1)), ("validation", (2023, 2))):
        trips = read_month(locate_month(year, month, months_dir)).trips
        dataset = datasets[context]
        assert dataset.name == f"green_tripdata_{year}-{month:02d}"
        assert dataset.source == str(months_dir / f"{dataset.name}.parquet")
        assert dataset.digest == describe(trips).digest
        assert dataset.num_rows == result.quality[f"{year}-{month:02d}"].kept
        assert dataset.schema is not None and "trip_distance" in dataset.schema


def test_the_model_version_leads_back_to_its_runs_and_data(result: TrainingResult) -> None:
    store = get_store()
    version = RegistryClient().get_model_version("taxi-duration", 1)
    logged_by = {t.name: t.id for t in store.list_task_runs(result.flow_run_id)}["log-model"]
    assert version.run_id == logged_by
    assert version.flow_run_id == result.flow_run_id
    assert version.source == result.model_uri == f"runs:/{logged_by}/model"
    assert version.code_version  # the commit of this checkout
    assert version.tags["validation_month"] == "2023-02"
    assert float(version.tags["rmse"]) == pytest.approx(result.rmse, abs=1e-4)
    assert version.description is not None and "trained on 2023-01" in version.description
    assert version.tags["promotion"].startswith("champion: the first champion")
    assert [c["name"] for c in (version.signature or {})["inputs"]] == [
        "PULocationID",
        "DOLocationID",
        "trip_distance",
    ]

    # What the version's page shows: the flow run, its tasks, params, metrics, data.
    registry = RegistryClient()._registry_store()
    shown = lineage(store, registry, version)
    assert shown.flow_run is not None and shown.flow_run.id == result.flow_run_id
    assert shown.task_run is not None and shown.task_run.name == "log-model"
    assert {"trial-0", "train-model", "promote-taxi-duration-v1"} <= {
        t.name for t in shown.task_runs
    }
    assert shown.metrics["rmse"] == pytest.approx(result.rmse)
    assert shown.parameters["max_depth"] == str(result.params["max_depth"])
    assert {(d.name, d.context) for d in shown.datasets} == {
        ("green_tripdata_2023-01", "training"),
        ("green_tripdata_2023-02", "validation"),
    }
    assert shown.logged is not None and shown.logged.flavors == ["python_function"]
