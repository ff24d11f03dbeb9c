"""The whole pipeline on small generated months, served by a flaky mirror."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from examples.taxi.flow import default_download_dir
from examples.taxi.report import REPORT_KEY

from cadenza import TrackingClient
from cadenza.exceptions import ParameterTypeError
from cadenza.store import get_store
from examples.taxi import FlakyMirror, demo, train_duration_model
from tests.examples.taxi.conftest import task_histories

QUICK = {"trials": 2, "retry_delay": 0.01}


def test_the_pipeline_trains_a_model_and_a_second_run_reuses_its_data(
    mirror: FlakyMirror, months_dir: Path
) -> None:
    first = train_duration_model(2023, 1, source=mirror.url, **QUICK)
    assert 3.0 < first.rmse < 9.0  # minutes, as on the real data (about 5 to 7)
    assert (first.train_month, first.valid_month) == ("2023-01", "2023-02")
    assert [t.number for t in first.trials] == [0, 1]
    assert first.params == min(first.trials, key=lambda t: t.rmse).params
    assert set(first.quality) == {"2023-01", "2023-02"}

    runs = task_histories(first.flow_run_id)
    for month in ("2023-01", "2023-02"):
        retried = ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"]
        assert runs[f"download-{month}"] == retried
        assert runs[f"read-{month}"][-1] == "Completed"
    steps = {
        "features-2023-01",
        "trial-0",
        "trial-1",
        "train-model",
        "evaluate-2023-02",
        "evaluate-2023-01",
        "log-model",
        "register-taxi-duration",
        "promote-taxi-duration-v1",
    }
    assert steps <= set(runs)
    assert 1.0 < first.train_rmse < 9.0
    assert (first.promotion.version, first.promotion.alias) == (1, "champion")
    assert first.promotion.champion_version is None  # the first version wins at once

    # The model predicts on a DataFrame of raw trips, as read from a month's file.
    raw = pd.read_parquet(months_dir / "green_tripdata_2023-02.parquet").head(50)
    predictions = first.model.predict(raw[["PULocationID", "DOLocationID", "trip_distance"]])
    assert predictions.shape == (50,)
    assert np.isfinite(predictions).all()
    assert 1 < float(np.median(predictions)) < 60

    report = get_store().read_artifact_by_key(REPORT_KEY)
    assert report is not None and report.flow_run_id == first.flow_run_id
    assert f"RMSE on 2023-02: {first.rmse:.3f} minutes" in report.data
    assert "| 2023-01 | 3,000 |" in report.data
    assert f"features, {first.model.trees} trees)" in report.data
    assert "taxi-duration version 1 is the champion: the first champion" in report.data
    assert report.data == first.report

    requests = dict(mirror.requests)
    second = train_duration_model(2023, 1, source=mirror.url, **QUICK)
    runs = task_histories(second.flow_run_id)
    for step in ("download", "read"):
        for month in ("2023-01", "2023-02"):
            assert runs[f"{step}-{month}"][-1] == "Cached", (step, month)
    assert runs["features-2023-01"][-1] == "Cached"
    assert runs["trial-0"][-1] == "Completed"
    assert dict(mirror.requests) == requests  # nothing downloaded again
    assert second.rmse == first.rmse  # same data, same seed: the same model
    # A tie does not take the alias: the new version is the challenger.
    assert (second.promotion.version, second.promotion.alias) == (2, "challenger")
    assert second.promotion.champion_rmse == pytest.approx(first.rmse)


def test_the_same_files_from_another_mirror_are_not_read_again(
    mirror: FlakyMirror, months_dir: Path
) -> None:
    first = train_duration_model(2023, 1, source=mirror.url, trials=1, retry_delay=0.01)
    with FlakyMirror(months_dir, failures=0) as other:
        second = train_duration_model(2023, 1, source=other.url, trials=1, retry_delay=0.01)
        assert other.requests["green_tripdata_2023-01.parquet"] == 1  # a new URL: downloaded
    runs = task_histories(second.flow_run_id)
    assert runs["download-2023-01"][-1] == "Completed"
    assert runs["read-2023-01"][-1] == "Cached"  # the same bytes: the same trips
    assert runs["features-2023-01"][-1] == "Cached"
    assert second.rmse == first.rmse


def test_december_is_validated_on_the_next_january(mirror: FlakyMirror) -> None:
    result = train_duration_model(2023, 12, source=mirror.url, trials=1, retry_delay=0.01)
    assert (result.train_month, result.valid_month) == ("2023-12", "2024-01")
    assert mirror.requests["green_tripdata_2024-01.parquet"] == 2
    assert "evaluate-2024-01" in task_histories(result.flow_run_id)


def test_a_local_folder_source_is_read_in_place(months_dir: Path) -> None:
    result = train_duration_model(2023, 1, source=months_dir, trials=1)
    runs = task_histories(result.flow_run_id)
    assert runs["locate-2023-01"][-1] == "Completed"
    assert not any(name.startswith("download-") for name in runs)
    assert not default_download_dir().exists()


def test_a_removed_download_is_fetched_again(mirror: FlakyMirror, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    options = {"source": mirror.url, "data_dir": str(downloads), "trials": 1, "retry_delay": 0.01}
    train_duration_model(2023, 1, **options)
    (downloads / "green_tripdata_2023-02.parquet").unlink()
    result = train_duration_model(2023, 1, **options)
    assert (downloads / "green_tripdata_2023-02.parquet").exists()
    assert mirror.requests["green_tripdata_2023-02.parquet"] == 3
    assert mirror.requests["green_tripdata_2023-01.parquet"] == 2
    assert result.valid_month == "2023-02"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"month": 13}, "month: Input should be less than or equal to 12"),
        ({"month": 0}, "month: Input should be greater than or equal to 1"),
        ({"trials": 0}, "trials: Input should be greater than or equal to 1"),
        ({"year": "twenty"}, "year: Input should be a valid integer"),
    ],
)
def test_bad_parameters_fail_before_anything_runs(arguments: dict, problem: str) -> None:
    with pytest.raises(ParameterTypeError, match=problem):
        train_duration_model(**arguments)
    assert get_store().list_flow_runs() == []


def test_the_demo_runs_end_to_end_and_again_from_its_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nothing listens on, for the demo's mirror
        s.bind(("127.0.0.1", 0))
        monkeypatch.setattr(demo, "MIRROR_PORT", s.getsockname()[1])
    argv = ["--rows", "1000", "--trials", "1", "--data-dir", str(tmp_path / "mirror")]
    assert demo.main(argv) == 0
    out = capsys.readouterr().out
    assert "2023-01: 1,000 trips in " in out and "green_tripdata_2023-01.parquet" in out
    assert f"Serving them at http://127.0.0.1:{demo.MIRROR_PORT}; its first answer" in out
    requests = "Requests to the mirror: green_tripdata_2023-01.parquet {n}, green_tripdata_2023-02"
    assert requests.format(n=2) in out
    assert "RMSE on 2023-02: " in out
    assert "Model: taxi-duration version 1, the champion (the first version)." in out
    run_id = get_store().list_flow_runs(limit=1)[0].id
    assert f"runs show {run_id}" in out
    assert f"http://127.0.0.1:4200/runs/{run_id}" in out
    experiment = TrackingClient().get_experiment_by_name("train-duration-model")
    assert experiment is not None
    assert f"http://127.0.0.1:4200/experiments/{experiment.experiment_id}?order=" in out
    assert "http://127.0.0.1:4200/models/taxi-duration/versions/1 " in out
    assert "models show taxi-duration" in out

    assert demo.main(argv) == 0
    out = capsys.readouterr().out
    assert requests.format(n=0) in out
    assert "Model: taxi-duration version 2, the challenger: the champion, version 1, " in out
    assert "http://127.0.0.1:4200/models/taxi-duration/versions/2 " in out
    runs = task_histories(get_store().list_flow_runs(limit=1)[0].id)
    assert runs["download-2023-01"][-1] == runs["features-2023-01"][-1] == "Cached"


def test_the_demo_refuses_a_bad_month(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        demo.main(["--month", "13"])
    assert caught.value.code == 2
    assert "month must be 1 to 12" in capsys.readouterr().err
