"""The generator of synthetic green-taxi months: schema, determinism, sizes, dirt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from examples.taxi.data import default_rows, ensure_months

from examples.taxi import SCHEMA, generate_month, write_month

TLC_COLUMNS = [
    "VendorID",
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "store_and_fwd_flag",
    "RatecodeID",
    "PULocationID",
    "DOLocationID",
    "passenger_count",
    "trip_distance",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "ehail_fee",
    "improvement_surcharge",
    "total_amount",
    "payment_type",
    "trip_type",
    "congestion_surcharge",
]


def test_the_file_has_the_columns_and_types_of_the_tlc_files(tmp_path: Path) -> None:
    path = write_month(tmp_path, 2023, 1, rows=500)
    assert path.name == "green_tripdata_2023-01.parquet"
    schema = pq.read_schema(path)
    assert schema.names == TLC_COLUMNS
    assert schema.equals(SCHEMA)
    assert schema.field("VendorID").type == pa.int64()
    assert schema.field("lpep_pickup_datetime").type == pa.timestamp("us")
    assert schema.field("PULocationID").type == pa.int64()
    assert schema.field("RatecodeID").type == pa.float64()
    assert schema.field("store_and_fwd_flag").type == pa.string()
    df = pd.read_parquet(path)
    assert len(df) == 500
    assert pd.api.types.is_datetime64_dtype(df["lpep_dropoff_datetime"])
    assert pd.api.types.is_string_dtype(df["store_and_fwd_flag"])
    assert set(df["store_and_fwd_flag"].dropna()) <= {"N", "Y"}
    assert df["ehail_fee"].isna().all()  # as in the real files
    # Pick-ups fall in the month and the rows come by pick-up time.
    pickups = df["lpep_pickup_datetime"]
    assert pickups.min() >= pd.Timestamp("2023-01-01")
    assert pickups.max() < pd.Timestamp("2023-02-01")
    assert pickups.is_monotonic_increasing
    assert df["PULocationID"].dropna().between(1, 265).all()


def test_a_month_is_the_same_every_time_and_differs_from_others(tmp_path: Path) -> None:
    first = write_month(tmp_path / "a", 2023, 3, rows=400).read_bytes()
    again = write_month(tmp_path / "b", 2023, 3, rows=400).read_bytes()
    assert first == again
    table = generate_month(2023, 3, rows=400)
    assert not table.equals(generate_month(2023, 4, rows=400))
    assert not table.equals(generate_month(2024, 3, rows=400))
    assert not table.equals(generate_month(2023, 3, rows=400, seed=1))


def test_months_have_realistic_sizes_unless_told() -> None:
    sizes = {default_rows(2023, m) for m in range(1, 13)}
    assert all(60_000 <= n <= 80_000 for n in sizes)
    assert len(sizes) > 6  # months differ
    assert generate_month(2023, 5).num_rows == default_rows(2023, 5)
    assert generate_month(2023, 5, rows=123).num_rows == 123


def _frame(rows: int = 20_000) -> pd.DataFrame:
    df = generate_month(2023, 1, rows=rows).to_pandas()
    df["minutes"] = (df.lpep_dropoff_datetime - df.lpep_pickup_datetime).dt.total_seconds() / 60
    return df


def test_a_month_holds_a_few_malformed_rows_of_each_kind() -> None:
    df = _frame()
    kinds = {
        "negative distance": df.trip_distance < 0,
        "drop-off before pick-up": df.minutes < 0,
        "missing location id": df.PULocationID.isna() | df.DOLocationID.isna(),
        "hours long": df.minutes > 180,
    }
    for kind, rows in kinds.items():
        assert 5 <= rows.sum() <= len(df) // 100, kind
    # Rows without the values the real files also lack at times.
    for column in ("RatecodeID", "passenger_count", "payment_type", "trip_type"):
        assert 0 < df[column].isna().mean() < 0.1, column


def test_durations_depend_on_distance_zones_and_time_of_day() -> None:
    df = _frame()
    ok = df[(df.minutes >= 1) & (df.minutes <= 60) & (df.trip_distance > 0)].dropna(
        subset=["PULocationID", "DOLocationID"]
    )
    assert np.corrcoef(ok.trip_distance, ok.minutes)[0, 1] > 0.6
    mph = ok.trip_distance / (ok.minutes / 60)
    hour = ok.lpep_pickup_datetime.dt.hour
    assert mph[hour.between(1, 4)].median() > 1.3 * mph[hour.between(16, 18)].median()
    by_zone = mph.groupby(ok.PULocationID).median()
    assert by_zone[ok.PULocationID.value_counts() > 200].std() > 0.5  # zones differ
    assert 10 < ok.minutes.mean() < 25  # about the real data's 17 minutes


@pytest.mark.parametrize(
    ("year", "month", "rows", "message"),
    [
        (2023, 13, 500, "month must be 1 to 12"),
        (2013, 7, 500, "before the first green-taxi month"),
        (2023, 1, 99, "rows must be at least 100"),
    ],
)
def test_bad_arguments_are_refused(year: int, month: int, rows: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_month(year, month, rows=rows)


def test_ensure_months_writes_only_the_missing_ones(tmp_path: Path) -> None:
    existing = write_month(tmp_path, 2023, 1, rows=300)
    before = existing.stat().st_mtime_ns
    paths = ensure_months(tmp_path, [(2023, 1), (2023, 2)], rows=300)
    assert [p.name for p in paths] == [
        "green_tripdata_2023-01.parquet",
        "green_tripdata_2023-02.parquet",
    ]
    assert existing.stat().st_mtime_ns == before
    assert all(p.exists() for p in paths)
    assert not list(tmp_path.glob(".*partial"))
