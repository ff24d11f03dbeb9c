"""Every flavor saves a model, loads it back by URI, and predicts the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import cadenza
from cadenza import flow, task
from cadenza.exceptions import InvalidModelError
from cadenza.registry import sklearn as cadenza_sklearn
from cadenza.registry import xgboost as cadenza_xgboost
from cadenza.registry.pyfunc import PythonModel


class MeanModel:
    """An object with predict, defined here (pickled by value by cloudpickle)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.full(len(frame), self.value) + frame["trip_distance"].to_numpy()


class Scaled(PythonModel):
    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.loaded = False

    def load_context(self, context: Any) -> None:
        self.loaded = True

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.Series:
        return model_input["trip_distance"] * self.factor


def test_sklearn_pipeline_round_trips(data: Any, log_in_flow: Any, cadenza_home: Path) -> None:
    x, y = data
    pipeline = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("scale", StandardScaler(), ["trip_distance"]),
                        ("hour", OneHotEncoder(handle_unknown="ignore"), ["pickup_hour"]),
                    ]
                ),
            ),
            ("ridge", Ridge(alpha=0.1)),
        ]
    ).fit(x, y)
    info = log_in_flow(pipeline, name="model", input_example=x.head(5))
    assert set(info.flavors) == {"python_function", "sklearn"}
    assert info.flavors["python_function"]["loader_module"] == "cadenza.registry.flavors.sklearn"
    assert info.signature["inputs"] == [
        {"name": "trip_distance", "type": "double"},
        {"name": "passenger_count", "type": "long"},
        {"name": "pickup_hour", "type": "long"},
    ]
    assert info.signature["outputs"][0]["type"] == "tensor"
    assert any(r.startswith("scikit-learn==") for r in info.requirements)
    assert {r.split("==")[0] for r in info.requirements} >= {"cloudpickle", "numpy", "pandas"}
    loaded = cadenza.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(x), pipeline.predict(x))
    assert isinstance(loaded.native, Pipeline)
    assert isinstance(cadenza_sklearn.load_model(info.model_uri), Pipeline)
    assert loaded.metadata.run_id == info.run_id
    assert loaded.metadata.requirements == info.requirements


def test_the_saved_folder_holds_a_descriptor_and_requirements(
    data: Any, log_in_flow: Any, tmp_path: Path
) -> None:
    x, y = data
    info = log_in_flow(Ridge().fit(x, y), name="ridge", input_example=x.head(3))
    model = cadenza.load_model(info.model_uri, dst_path=tmp_path / "here")
    folder = tmp_path / "here" / "ridge"
    descriptor = json.loads((folder / "MLmodel").read_text())
    assert descriptor["run_id"] == info.run_id
    assert descriptor["flow_run_id"] == info.flow_run_id
    assert descriptor["artifact_path"] == "ridge"
    assert descriptor["utc_time_created"].endswith("Z")
    assert (folder / "requirements.txt").read_text().splitlines() == info.requirements
    example = pd.read_json(folder / "input_example.json", orient="split")
    assert list(example.columns) == list(x.columns)
    assert model.flavor == "sklearn"


@pytest.mark.parametrize("fmt", ["ubj", "json"])
def test_xgboost_booster_round_trips_in_native_format(
    data: Any, log_in_flow: Any, tmp_path: Path, fmt: str
) -> None:
    x, y = data
    booster = xgb.train({"max_depth": 3}, xgb.DMatrix(x, label=y), num_boost_round=10)
    info = log_in_flow(
        booster,
        name="booster",
        input_example=x.head(),
        flavor_options={"model_format": fmt},
    )
    assert info.flavors["xgboost"]["data"] == f"model.{fmt}"
    assert info.flavors["xgboost"]["model_class"] == "xgboost.core.Booster"
    assert any(r.split("==")[0] in ("xgboost", "xgboost-cpu") for r in info.requirements)
    loaded = cadenza.load_model(info.model_uri, dst_path=tmp_path)
    assert (tmp_path / "booster" / f"model.{fmt}").is_file()
    assert isinstance(loaded.native, xgb.Booster)
    np.testing.assert_allclose(loaded.predict(x), booster.inplace_predict(x))
    assert isinstance(cadenza_xgboost.load_model(info.model_uri), xgb.Booster)


def test_xgb_regressor_comes_back_as_a_regressor(data: Any, log_in_flow: Any) -> None:
    x, y = data
    regressor = xgb.XGBRegressor(n_estimators=20, max_depth=3).fit(x, y)
    info = log_in_flow(regressor, name="xgb", input_example=x.head())
    assert "sklearn" not in info.flavors  # XGBoost's own format, not a pickle
    loaded = cadenza.load_model(info.model_uri)
    assert isinstance(loaded.native, xgb.XGBRegressor)
    np.testing.assert_allclose(loaded.predict(x), regressor.predict(x))
    again = cadenza_xgboost.load_model(info.model_uri)
    assert type(again) is xgb.XGBRegressor
    with pytest.raises(InvalidModelError, match="not sklearn"):
        cadenza_sklearn.load_model(info.model_uri)


def test_an_object_with_predict_round_trips(data: Any, log_in_flow: Any) -> None:
    x, _ = data
    info = log_in_flow(MeanModel(2.5), name="mean", input_example=x.head())
    assert list(info.flavors) == ["python_function"]
    assert info.flavors["python_function"]["kind"] == "object"
    loaded = cadenza.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(x), MeanModel(2.5).predict(x))
    assert loaded.unwrap_python_model().value == 2.5
    assert any(r.startswith("cadenza==") for r in info.requirements)


def test_a_python_model_round_trips_with_its_context(data: Any, log_in_flow: Any) -> None:
    x, _ = data
    info = log_in_flow(Scaled(3.0), name="scaled", input_example=x.head())
    assert info.flavors["python_function"]["kind"] == "PythonModel"
    assert info.signature["outputs"] == [{"name": "trip_distance", "type": "double"}]
    loaded = cadenza.load_model(info.model_uri)
    pd.testing.assert_series_equal(loaded.predict(x), x["trip_distance"] * 3.0)
    python_model = loaded.unwrap_python_model()
    assert isinstance(python_model, Scaled)
    assert python_model.loaded


def test_log_model_in_a_task_links_the_task_run_and_its_flow_run(data: Any) -> None:
    x, y = data

    @task
    def train() -> Any:
        return cadenza.log_model(Ridge().fit(x, y), name="in-task")

    @flow
    def pipeline() -> Any:
        return train()

    state = pipeline(return_state=True)
    info = state.result()
    assert info.run_id != info.flow_run_id
    assert info.signature is None  # no example, no signature
    from cadenza.registry.client import RegistryClient

    logged = RegistryClient().list_logged_models(info.flow_run_id)
    assert [(m.run_id, m.artifact_path) for m in logged] == [(info.run_id, "in-task")]


def test_what_is_not_a_model_is_refused_listing_what_is_accepted(log_in_flow: Any) -> None:
    with pytest.raises(InvalidModelError, match=r"no predict method.*scikit-learn estimator"):
        log_in_flow({"weights": [1, 2]})
    with pytest.raises(InvalidModelError, match="cannot save"):
        log_in_flow(MeanModel(1.0), flavor="xgboost")
    with pytest.raises(InvalidModelError, match="no model flavor 'torch'"):
        log_in_flow(MeanModel(1.0), flavor="torch")
    with pytest.raises(InvalidModelError, match=r"without '\.\.'"):
        log_in_flow(MeanModel(1.0), name="../escape")
    with pytest.raises(InvalidModelError, match="inside a function decorated"):
        cadenza.log_model(MeanModel(1.0))


def test_given_requirements_and_metadata_are_kept(data: Any, log_in_flow: Any) -> None:
    x, y = data
    info = log_in_flow(
        Ridge().fit(x, y),
        pip_requirements=["scikit-learn>=1.4"],
        metadata={"dataset": "yellow-2024-01"},
    )
    loaded = cadenza.load_model(info.model_uri)
    assert loaded.metadata.requirements == ["scikit-learn>=1.4"]
    assert loaded.metadata.metadata == {"dataset": "yellow-2024-01"}


def test_a_random_forest_is_inferred_as_sklearn(data: Any, log_in_flow: Any) -> None:
    x, y = data
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(x, y)
    info = log_in_flow(forest, name="forest")
    assert "sklearn" in info.flavors
    np.testing.assert_array_equal(cadenza.load_model(info.model_uri).predict(x), forest.predict(x))
