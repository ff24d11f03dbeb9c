"""Content hashing of inputs: equal content, equal hash; one cell differs, hashes differ."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import scipy.sparse as sp

from cadenza.hashing import UnhashableInputError, hash_objects


def test_plain_python_values() -> None:
    assert hash_objects(1) == hash_objects(1)
    assert hash_objects(1) != hash_objects(1.0) != hash_objects("1") != hash_objects(True)
    assert hash_objects({"a": 1, "b": [1, 2]}) == hash_objects({"b": [1, 2], "a": 1})
    assert hash_objects([1, 2]) != hash_objects((1, 2))
    assert hash_objects({1, 2, 3}) == hash_objects({3, 2, 1})
    assert hash_objects(dt.date(2024, 1, 1)) != hash_objects(dt.date(2024, 1, 2))
    assert hash_objects(Path("a/b")) == hash_objects(Path("a/b"))
    assert hash_objects(None) != hash_objects(0)


@dataclasses.dataclass
class Config:
    depth: int
    rate: float


def test_dataclasses_and_pickled_objects() -> None:
    assert hash_objects(Config(3, 0.1)) == hash_objects(Config(3, 0.1))
    assert hash_objects(Config(3, 0.1)) != hash_objects(Config(4, 0.1))
    assert hash_objects(lambda x: x + 1)  # hashed through cloudpickle


def test_unpicklable_values_raise_a_clear_error() -> None:
    with pytest.raises(UnhashableInputError, match="not picklable"):
        hash_objects(threading.Lock())


def test_numpy_arrays_by_content_dtype_and_shape() -> None:
    a = np.arange(12, dtype="int64")
    assert hash_objects(a) == hash_objects(a.copy())
    b = a.copy()
    b[5] = -1
    assert hash_objects(a) != hash_objects(b)
    assert hash_objects(a) != hash_objects(a.astype("int32"))
    assert hash_objects(a.reshape(3, 4)) != hash_objects(a.reshape(4, 3))
    assert hash_objects(a.reshape(3, 4).T) == hash_objects(np.ascontiguousarray(a.reshape(3, 4).T))
    assert hash_objects(np.array(["x", None], dtype=object)) == hash_objects(
        np.array(["x", None], dtype=object)
    )
    assert hash_objects(np.float64(1.5)) != hash_objects(np.float32(1.5))


def test_pandas_frames_differing_in_one_cell() -> None:
    df = pd.DataFrame(
        {"a": range(1000), "b": ["x"] * 1000, "t": pd.date_range("2024", periods=1000)}
    )
    same = df.copy()
    assert hash_objects(df) == hash_objects(same)
    changed = df.copy()
    changed.loc[500, "b"] = "y"
    assert hash_objects(df) != hash_objects(changed)
    assert hash_objects(df) != hash_objects(df.rename(columns={"a": "A"}))
    assert hash_objects(df["a"]) != hash_objects(df["a"].astype("float64"))
    listy = pd.DataFrame({"a": [[1], [2]]})
    assert hash_objects(listy) == hash_objects(listy.copy())


def test_sparse_arrow_and_polars() -> None:
    m = sp.random(100, 100, density=0.05, format="csr", random_state=1)
    m2 = m.copy()
    assert hash_objects(m) == hash_objects(m2)
    assert hash_objects(m) == hash_objects(m.tocoo())  # same matrix, other format
    m2.data[0] += 1
    assert hash_objects(m) != hash_objects(m2)

    t = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert hash_objects(t) == hash_objects(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    assert hash_objects(t) != hash_objects(pa.table({"a": [1, 2, 4], "b": ["x", "y", "z"]}))
    assert hash_objects(t.slice(1)) == hash_objects(pa.table({"a": [2, 3], "b": ["y", "z"]}))

    f = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert hash_objects(f) == hash_objects(f.clone())
    assert hash_objects(f) != hash_objects(f.with_columns(pl.col("a") + 1))
    assert hash_objects(f["a"]) != hash_objects(f["b"])
