"""Reading a month: malformed rows reported and dropped, unusable files refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from examples.taxi.validate import MALFORMED, OUT_OF_RANGE

from examples.taxi import InvalidMonthData, MonthFile, NoUsableRows, generate_month, read_month
from tests.examples.taxi.conftest import ROWS


def _file(path: Path) -> MonthFile:
    data = path.read_bytes()
    return MonthFile(2023, 1, path, len(data), hashlib.sha256(data).hexdigest(), str(path.parent))


def test_malformed_rows_are_counted_and_dropped(months_dir: Path) -> None:
    path = months_dir / "green_tripdata_2023-01.parquet"
    month = read_month(_file(path))
    raw = pd.read_parquet(path)
    minutes = (raw.lpep_dropoff_datetime - raw.lpep_pickup_datetime).dt.total_seconds() / 60
    q = month.quality
    assert q.rows == ROWS == len(raw)
    assert list(q.dropped) == list(MALFORMED + OUT_OF_RANGE)
    assert (
        q.dropped["missing location id"]
        == (raw.PULocationID.isna() | raw.DOLocationID.isna()).sum()
    )
    for reason in MALFORMED:
        if reason != "missing pick-up or drop-off time":
            assert q.dropped[reason] >= 1, reason
    assert q.kept + q.malformed + q.out_of_range == q.rows
    expected_kept = (
        raw.PULocationID.notna()
        & raw.DOLocationID.notna()
        & (raw.trip_distance >= 0)
        & minutes.between(1, 60)
    ).sum()
    assert q.kept == expected_kept == len(month.trips)
    trips = month.trips
    assert trips["duration"].between(1, 60).all()
    assert (trips["trip_distance"] >= 0).all()
    assert trips["PULocationID"].dtype == "int64"
    assert not trips.isna().any().any()
    assert month.label == "2023-01"


def test_the_report_is_logged(months_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    read_month(_file(months_dir / "green_tripdata_2023-01.parquet"))
    messages = [r.getMessage() for r in caplog.records]
    dropped = [m for m in messages if m.startswith("2023-01: dropped")]
    assert len(dropped) == 1 and "negative or missing distance" in dropped[0]
    assert any(m.startswith("2023-01: kept ") and f"of {ROWS:,} trips" in m for m in messages)


def test_a_month_without_usable_rows_fails_clearly(tmp_path: Path) -> None:
    table = generate_month(2023, 1, rows=200)
    distance = pa.array([-1.5] * table.num_rows, pa.float64())
    column = table.schema.get_field_index("trip_distance")
    spoiled = table.set_column(column, "trip_distance", distance)
    path = tmp_path / "green_tripdata_2023-01.parquet"
    pq.write_table(spoiled, path)
    with pytest.raises(NoUsableRows) as caught:
        read_month(_file(path))
    message = str(caught.value)
    assert "has no usable trip in its 200 rows" in message
    assert "negative or missing distance" in message
    assert "Check that the file holds the trips of 2023-01" in message


def test_a_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "green_tripdata_2023-01.parquet"
    table = generate_month(2023, 1, rows=200).drop_columns(["PULocationID"])
    pq.write_table(table, path)
    with pytest.raises(InvalidMonthData, match="not a TLC green-taxi file: no column PULocationID"):
        read_month(_file(path))


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "green_tripdata_2023-01.parquet"
    path.write_bytes(b"PAR1 but not really PAR1")
    with pytest.raises(InvalidMonthData, match="cannot be read as parquet"):
        read_month(_file(path))
