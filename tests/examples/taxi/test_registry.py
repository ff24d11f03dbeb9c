"""The model in the registry: a new version becomes champion only when it beats the
champion on the same validation month, and the champion loads back and predicts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from examples.taxi.months import file_name
from examples.taxi.registry import promote

import cadenza
from cadenza import flow
from cadenza.exceptions import InvalidModelError
from cadenza.registry.client import RegistryClient
from cadenza.registry.pyfunc import PythonModel
from cadenza.store import get_store
from examples.taxi import DataQuality, MonthTrips, train_duration_model, write_month
from tests.examples.taxi.conftest import ROWS

NAME = "taxi-duration"


def months_with_january_of(rows: int, folder: Path, months_dir: Path) -> Path:
    """A folder with a January of ``rows`` trips and the usual February (same bytes)."""
    folder.mkdir()
    write_month(folder, 2023, 1, rows=rows)
    shutil.copy(months_dir / file_name(2023, 2), folder)
    return folder


def test_promotion_keeps_the_better_model(months_dir: Path, tmp_path: Path) -> None:
    client = RegistryClient()
    first = train_duration_model(2023, 1, source=months_dir, trials=1)
    assert (first.promotion.version, first.promotion.alias) == (1, "champion")

    # Trained on a tenth of the trips: worse on the same February; the alias stays.
    fewer = months_with_january_of(ROWS // 10, tmp_path / "fewer", months_dir)
    second = train_duration_model(2023, 1, source=fewer, trials=1)
    assert second.rmse > first.rmse
    promotion = second.promotion
    assert (promotion.version, promotion.alias, promotion.promoted) == (2, "challenger", False)
    assert promotion.champion_version == 1
    assert promotion.champion_rmse == pytest.approx(first.rmse)  # scored again, same month
    assert client.get_model_version_by_alias(NAME, "champion").version == 1
    assert client.get_model_version_by_alias(NAME, "challenger").version == 2
    run = cadenza.TrackingClient().get_run(second.flow_run_id)
    assert run.data.metrics["champion_rmse"] == pytest.approx(first.rmse)
    assert run.data.metrics["rmse"] == pytest.approx(second.rmse)
    assert (run.data.tags["model_alias"], run.data.tags["champion_version"]) == ("challenger", "1")
    tags = client.get_model_version(NAME, 2).tags
    assert float(tags["champion_rmse"]) == pytest.approx(first.rmse, abs=1e-4)
    assert tags["promotion"].startswith("challenger: did not beat version 1, the champion")

    # Trained on four times the trips: better on the same February; the alias moves.
    more = months_with_january_of(ROWS * 4, tmp_path / "more", months_dir)
    third = train_duration_model(2023, 1, source=more, trials=1)
    assert third.rmse < first.rmse
    assert (third.promotion.version, third.promotion.alias) == (3, "champion")
    assert third.promotion.champion_version == 1
    assert third.promotion.champion_rmse == pytest.approx(first.rmse)
    assert client.get_model_version_by_alias(NAME, "champion").version == 3
    assert client.get_model_version_by_alias(NAME, "challenger").version == 2

    moves = [(m.version, m.alias, m.comment) for m in client.get_model_history(NAME)]
    assert [(v, alias) for v, alias, _ in moves] == [
        (1, "champion"),
        (2, "challenger"),
        (3, "champion"),
    ]
    assert moves[2][2] == (
        f"beat version 1 on 2023-02: RMSE {third.rmse:.3f} against {first.rmse:.3f}"
    )


def test_the_champion_loads_back_and_predicts_on_raw_trips(
    months_dir: Path, tmp_path: Path
) -> None:
    result = train_duration_model(2023, 1, source=months_dir, trials=1)
    raw = pd.read_parquet(months_dir / file_name(2023, 2))  # every column, ids with gaps
    assert raw["PULocationID"].isna().any()

    champion = cadenza.load_model(f"models:/{NAME}@champion")
    predictions = champion.predict(raw)
    assert predictions.shape == (len(raw),)
    assert np.isfinite(predictions).all()
    expected = result.model.predict(raw[["PULocationID", "DOLocationID", "trip_distance"]])
    np.testing.assert_allclose(predictions, expected)
    with pytest.raises(cadenza.exceptions.ModelSignatureError, match="trip_distance"):
        champion.predict(raw.drop(columns=["trip_distance"]))

    # The model carries its code: another Python, away from this repository, loads it.
    script = (
        "import json, sys, cadenza, pandas as pd\n"
        f"model = cadenza.load_model('models:/{NAME}@champion')\n"
        f"raw = pd.read_parquet({str(months_dir / file_name(2023, 2))!r}).head(20)\n"
        "print(json.dumps({'predictions': model.predict(raw).tolist(),\n"
        "                  'examples': any(m.startswith('examples') for m in sys.modules)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["examples"] is False
    np.testing.assert_allclose(out["predictions"], predictions[:20], rtol=1e-6)


class NeedsOtherColumns(PythonModel):
    """A model of another feature set: it cannot score the taxi trips."""

    def predict(self, context: object, model_input: pd.DataFrame, params: object = None) -> object:
        return model_input["pickup_hour"] * 2.0


def test_a_champion_that_cannot_be_scored_keeps_its_alias() -> None:
    @flow
    def older_model() -> str:
        example = pd.DataFrame({"pickup_hour": [7.0, 8.0]})
        info = cadenza.log_model(NeedsOtherColumns(), name="model", input_example=example)
        return info.model_uri

    uri = older_model()
    client = RegistryClient()
    champion = cadenza.register_model(uri, NAME).version
    client.set_registered_model_alias(NAME, "champion", champion)
    new = cadenza.register_model(uri, NAME).version  # stands for a new taxi model
    trips = pd.DataFrame(
        {
            "PULocationID": [74, 75],
            "DOLocationID": [75, 74],
            "trip_distance": [1.5, 2.0],
            "duration": [9.0, 11.0],
        }
    )
    valid = MonthTrips(2023, 2, trips, DataQuality(rows=2, kept=2))

    promotion = promote(NAME, new, 5.0, valid)
    assert (promotion.alias, promotion.champion_version) == ("challenger", champion)
    assert promotion.champion_rmse is None
    assert "could not be scored on 2023-02 (ModelSignatureError" in promotion.reason
    assert f"cadenza models alias {NAME} {new} champion" in promotion.reason
    assert client.get_model_version_by_alias(NAME, "champion").version == champion
    assert client.get_model_version_by_alias(NAME, "challenger").version == new


def test_a_bad_model_name_fails_before_any_training(months_dir: Path) -> None:
    with pytest.raises(InvalidModelError, match="'taxi/duration' holds '/'"):
        train_duration_model(2023, 1, source=months_dir, model_name="taxi/duration")
    (run,) = get_store().list_flow_runs()
    assert get_store().list_task_runs(run.id) == []
