"""The shapes of tables accepted by create_table_artifact, and how cells are stored."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from cadenza.artifacts import InvalidArtifact, create_table_artifact, normalize_table
from cadenza.store import get_store


def test_a_list_of_dicts_has_the_keys_as_columns_in_order_of_appearance() -> None:
    table = [{"model": "ridge", "rmse": 4.1}, {"model": "tree", "r2": 0.8}, {}]
    assert normalize_table(table) == {
        "columns": ["model", "rmse", "r2"],
        "rows": [["ridge", 4.1, None], ["tree", None, 0.8], [None, None, None]],
    }


def test_a_dict_of_lists_has_one_column_per_key_and_pads_short_columns() -> None:
    table = {
        "model": ["ridge", "tree", "forest"],
        "rmse": (4.1, 3.9),
        7: np.array([1, 2, 3]),
        "ok": pd.Series([True, False, True]),
    }
    assert normalize_table(table) == {
        "columns": ["model", "rmse", "7", "ok"],
        "rows": [["ridge", 4.1, 1, True], ["tree", 3.9, 2, False], ["forest", None, 3, True]],
    }


def test_a_list_of_lists_is_rows_without_a_header() -> None:
    assert normalize_table([["a", 1], ("b", 2, True)]) == {
        "columns": None,
        "rows": [["a", 1], ["b", 2, True]],
    }


@pytest.mark.parametrize("empty", [[], (), {}])
def test_empty_tables(empty: Any) -> None:
    assert normalize_table(empty) == {"columns": [], "rows": []}


def test_a_pandas_dataframe_gives_its_columns_and_rows_without_the_index() -> None:
    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "x": [1.5, np.nan],
            "when": pd.to_datetime(["2026-01-31 08:00", None]),
            "maybe": pd.array([1, None], dtype="Int64"),
            "label": ["a", None],
        },
        index=["r1", "r2"],
    )
    assert normalize_table(frame) == {
        "columns": ["n", "x", "when", "maybe", "label"],
        "rows": [[1, 1.5, "2026-01-31T08:00:00", 1, "a"], [2, None, None, None, None]],
    }


def test_a_polars_dataframe_gives_its_columns_and_rows() -> None:
    frame = pl.DataFrame({"model": ["ridge", "tree"], "rmse": [4.1, float("nan")]})
    assert normalize_table(frame) == {
        "columns": ["model", "rmse"],
        "rows": [["ridge", 4.1], ["tree", None]],
    }


CELLS: list[tuple[Any, Any]] = [
    (None, None),
    (math.nan, None),
    (np.float64("nan"), None),
    (math.inf, "inf"),
    (-math.inf, "-inf"),
    (np.float32(1.5), 1.5),
    (np.int64(7), 7),
    (np.bool_(True), True),
    (2**70, 2**70),
    (pd.NA, None),
    (pd.NaT, None),
    (dt.date(2026, 1, 31), "2026-01-31"),
    (dt.datetime(2026, 1, 31, 8, 30, tzinfo=dt.UTC), "2026-01-31T08:30:00+00:00"),
    (Decimal("1.10"), "1.10"),
    ({1: math.nan, "b": [math.inf]}, {"1": None, "b": ["inf"]}),
    (np.array([1.0, np.nan]), [1.0, None]),
    (object.__new__(type("Thing", (), {"__str__": lambda self: "a thing"})), "a thing"),
]


@pytest.mark.parametrize(("cell", "stored"), CELLS, ids=[type(c).__name__ for c, _ in CELLS])
def test_cells_are_stored_as_json_can_hold_them(cell: Any, stored: Any) -> None:
    assert normalize_table([{"c": cell}])["rows"] == [[stored]]


def test_nan_and_infinity_are_recorded() -> None:
    artifact_id = create_table_artifact(
        {"loss": [0.5, math.nan, math.inf, -math.inf]}, key="losses"
    )
    artifact = get_store().read_artifact(artifact_id)
    assert artifact is not None
    assert artifact.data == {"columns": ["loss"], "rows": [[0.5], [None], ["inf"], ["-inf"]]}


@pytest.mark.parametrize(
    ("table", "got"),
    [
        ("a,b\n1,2", "got a str"),
        (42, "got a int"),
        ([1, 2, 3], "got a list of int"),
        ([{"a": 1}, [2]], "got a list of dict, list"),
        ({"a": 1}, "value for 'a' is a int"),
        ({"a": "text"}, "value for 'a' is a str"),
        (pd.Series([1, 2]), "got a Series"),
    ],
)
def test_other_shapes_are_refused_with_the_shapes_accepted(table: Any, got: str) -> None:
    with pytest.raises(InvalidArtifact) as info:
        create_table_artifact(table)
    message = str(info.value)
    assert got in message
    assert "a list of dicts (one per row), a dict of lists (one per column)" in message
    assert "pandas or polars DataFrame" in message
