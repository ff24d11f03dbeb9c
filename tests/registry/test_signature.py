"""Signatures: inferred from an example, checked before predict as mlflow's pyfunc does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import cadenza
from cadenza.exceptions import ModelSignatureError
from cadenza.registry.signature import enforce, infer_schema, infer_signature


def test_schemas_of_every_kind_of_example() -> None:
    frame = pd.DataFrame(
        {
            "f64": [1.5],
            "f32": np.array([1.5], dtype="float32"),
            "i64": [1],
            "i32": np.array([1], dtype="int32"),
            "flag": [True],
            "text": ["a"],
            "raw": [b"x"],
            "when": pd.to_datetime(["2024-01-01"]),
        }
    )
    assert [s["type"] for s in infer_schema(frame)] == [
        "double",
        "float",
        "long",
        "integer",
        "boolean",
        "string",
        "binary",
        "datetime",
    ]
    assert infer_schema({"a": [1.0, 2.0]}) == [{"name": "a", "type": "double"}]
    assert infer_schema([{"a": 1}, {"a": 2}]) == [{"name": "a", "type": "long"}]
    assert infer_schema(np.zeros((3, 4))) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}
    ]
    assert infer_schema(pd.Series([1.0], name="y")) == [{"name": "y", "type": "double"}]
    signature = infer_signature(frame[["f64"]], np.array([1.0]))
    assert signature["inputs"] == [{"name": "f64", "type": "double"}]
    assert signature["outputs"][0]["tensor-spec"]["shape"] == [-1]


SCHEMA = [{"name": "distance", "type": "double"}, {"name": "hour", "type": "long"}]


def test_missing_columns_are_named_with_what_the_signature_needs() -> None:
    with pytest.raises(
        ModelSignatureError, match=r"missing the column 'hour'.*distance \(double\)"
    ):
        enforce(SCHEMA, pd.DataFrame({"distance": [1.0]}))
    with pytest.raises(ModelSignatureError, match="columns 'distance', 'hour'"):
        enforce(SCHEMA, pd.DataFrame({"other": [1.0]}))


def test_compatible_types_are_converted_and_columns_ordered() -> None:
    given = pd.DataFrame(
        {
            "extra": ["dropped"],
            "hour": np.array([3], dtype="int32"),
            "distance": np.array([2], dtype="int64"),
        }
    )
    out = enforce(SCHEMA, given)
    assert list(out.columns) == ["distance", "hour"]
    assert out["distance"].dtype == np.float64
    assert out["hour"].dtype == np.int64
    assert out["distance"].tolist() == [2.0]
    assert given["distance"].dtype == np.int64  # the caller's frame is left alone


def test_lossy_conversions_are_refused_with_a_hint() -> None:
    with pytest.raises(ModelSignatureError, match=r"'hour' is double.*cannot be converted to long"):
        enforce(SCHEMA, pd.DataFrame({"distance": [1.0], "hour": [1.5]}))
    with pytest.raises(ModelSignatureError, match="missing values"):
        enforce(SCHEMA, pd.DataFrame({"distance": [1.0, 2.0], "hour": [1, None]}))
    with pytest.raises(ModelSignatureError, match="'distance' is string"):
        enforce(SCHEMA, pd.DataFrame({"distance": ["far"], "hour": [1]}))


def test_rows_and_dicts_are_read_as_tables() -> None:
    out = enforce(SCHEMA, [{"distance": 1.0, "hour": 2}])
    assert out.to_dict("list") == {"distance": [1.0], "hour": [2]}
    assert enforce(SCHEMA, {"distance": 1.0, "hour": 2}).shape == (1, 2)
    with pytest.raises(ModelSignatureError, match="Give a pandas DataFrame"):
        enforce(SCHEMA, "not a table")


def test_tensors_are_checked_by_shape_and_dtype() -> None:
    schema = [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]
    assert enforce(schema, np.ones((5, 2), dtype="int32")).dtype == np.float64
    with pytest.raises(ModelSignatureError, match="shape"):
        enforce(schema, np.ones((5, 3)))
    schema32 = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]
    with pytest.raises(ModelSignatureError, match="float32"):
        enforce(schema32, np.ones((5, 2)))


def test_loaded_models_check_their_input(data: Any, log_in_flow: Any) -> None:
    x, y = data
    info = log_in_flow(Ridge().fit(x, y), input_example=x.head())
    model = cadenza.load_model(info.model_uri)
    with pytest.raises(ModelSignatureError, match="'pickup_hour'"):
        model.predict(x.drop(columns=["pickup_hour"]))
    as_ints = x.assign(trip_distance=x.trip_distance.round().astype("int64"))
    np.testing.assert_allclose(
        model.predict(as_ints), model.native.predict(as_ints.astype({"trip_distance": float}))
    )
    shuffled = x[["pickup_hour", "trip_distance", "passenger_count"]]
    np.testing.assert_allclose(model.predict(shuffled), model.native.predict(x))


def test_a_given_signature_wins_over_the_example(data: Any, log_in_flow: Any) -> None:
    x, y = data
    signature = infer_signature(x[["trip_distance", "passenger_count", "pickup_hour"]])
    info = log_in_flow(Ridge().fit(x, y), signature=signature, input_example=x.head(1))
    assert info.signature == signature
    assert info.signature["outputs"] is None
