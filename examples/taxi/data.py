"""Synthetic months of NYC green-taxi trips, in the schema of the TLC's parquet files.

The TLC's files cannot be downloaded everywhere (CI, machines without internet), so
the pipeline also runs on generated months that look like them: every column of the
real files with the real types (those of ``green_tripdata_2023-01.parquet``), 60,000
to 80,000 trips a month, and the same kinds of dirt.

The trips come from a small made-up city of 263 zones (the TLC's ``LocationID`` 1 to
263, plus 265 for trips leaving the city). Zones have a position, a popularity and a
traffic speed; the city is the same for every month, so that a model trained on one
month predicts the next. A trip's duration depends on its distance, its pick-up and
drop-off zones and the time of day and week, with noise and occasional hold-ups, so
that a model of ``PU_DO`` and ``trip_distance`` gets an RMSE of about 5 to 7 minutes
on the next month, as on the real data. Each month also holds

- cancelled trips of zero distance and under a minute, and long ones over an hour
  (real, but outside the 1 to 60 minutes the pipeline trains on),
- rows with missing values in the columns where the real files have them
  (``store_and_fwd_flag``, ``RatecodeID``, ``passenger_count``, ``payment_type``,
  ``trip_type``, ``congestion_surcharge``),
- a few malformed rows: a negative distance, a drop-off before the pick-up, a missing
  location id, a meter left running for hours.

Months are deterministic: the same ``(year, month, rows, seed)`` gives the same bytes.
"""

from __future__ import annotations

import calendar
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from examples.taxi.months import check_month, file_name

SCHEMA = pa.schema(
    [
        ("VendorID", pa.int64()),
        ("lpep_pickup_datetime", pa.timestamp("us")),
        ("lpep_dropoff_datetime", pa.timestamp("us")),
        ("store_and_fwd_flag", pa.string()),
        ("RatecodeID", pa.float64()),
        ("PULocationID", pa.int64()),
        ("DOLocationID", pa.int64()),
        ("passenger_count", pa.float64()),
        ("trip_distance", pa.float64()),
        ("fare_amount", pa.float64()),
        ("extra", pa.float64()),
        ("mta_tax", pa.float64()),
        ("tip_amount", pa.float64()),
        ("tolls_amount", pa.float64()),
        ("ehail_fee", pa.float64()),
        ("improvement_surcharge", pa.float64()),
        ("total_amount", pa.float64()),
        ("payment_type", pa.float64()),
        ("trip_type", pa.float64()),
        ("congestion_surcharge", pa.float64()),
    ]
)
"""The columns of a TLC green-taxi file and their types."""

MALFORMED_KINDS = ("negative_distance", "dropoff_before_pickup", "missing_location", "hours_long")
"""The kinds of malformed rows a generated month holds, about equally many of each."""

_CITY_SEED = 2013
_ZONES = 263
_OUTSIDE_NYC = 265
# The busiest green-taxi pick-up zones of the real data (East Harlem, Central Harlem,
# Forest Hills, Elmhurst, Fort Greene, Astoria...), made the hubs of the city.
_HUBS = (74, 75, 41, 166, 95, 82, 97, 7, 42, 244, 129, 65, 43, 260, 181, 116, 255, 152)
# Share of the day's trips that start in each hour, and the traffic speed (mph) then.
# Rows: midnight to 11:00, noon to 23:00.
_HOURLY_TRIPS = np.array(
    [
        [1.6, 1.1, 0.8, 0.6, 0.6, 0.8, 1.8, 3.6, 5.0, 5.0, 5.0, 5.2],
        [5.4, 5.6, 6.0, 6.6, 6.8, 6.8, 6.4, 5.6, 4.6, 3.9, 3.1, 2.3],
    ]
).ravel()
_HOURLY_MPH = np.array(
    [
        [16.0, 17.0, 18.0, 18.5, 18.5, 17.0, 14.0, 10.5, 9.0, 9.5, 10.5, 11.0],
        [11.0, 11.0, 10.5, 9.5, 8.5, 8.5, 9.5, 11.0, 12.5, 13.5, 14.5, 15.5],
    ]
).ravel()


@dataclass(frozen=True)
class City:
    """The zones trips go between (index ``i`` is ``LocationID`` ``i + 1``)."""

    xy: np.ndarray
    """Position of each zone's centre, in miles."""
    speed: np.ndarray
    """How fast traffic moves in each zone, relative to the city's average."""
    popularity: np.ndarray
    """Probability that a trip starts in each zone."""
    core: np.ndarray
    """Zones of the congestion-charge area."""
    destinations: np.ndarray
    """Cumulative probabilities of the drop-off zone, one row per pick-up zone."""


@functools.cache
def city() -> City:
    """The city of every generated month (always the same)."""
    rng = np.random.default_rng(_CITY_SEED)
    xy = rng.uniform([0.0, 0.0], [14.0, 18.0], size=(_ZONES, 2))
    core_point = np.array([6.0, 11.0])
    from_core = np.hypot(*(xy - core_point).T)
    speed = (0.72 + 0.5 * (1 - np.exp(-from_core / 4.0))) * rng.lognormal(0, 0.12, _ZONES)
    rank = rng.permutation(_ZONES) + 1.0
    weight = 1.0 / rank**1.1
    hubs = np.array(_HUBS) - 1
    weight[hubs] = np.linspace(0.2, 0.04, len(hubs))
    popularity = weight / weight.sum()
    apart = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    pull = np.sqrt(popularity)[None, :] * np.exp(-apart / 2.2)
    np.fill_diagonal(pull, pull.diagonal() * 3.0)  # many trips stay in the zone
    cumulative = np.cumsum(pull / pull.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0
    return City(xy, speed, popularity, from_core < 3.0, cumulative)


def default_rows(year: int, month: int) -> int:
    """How many trips a month holds when not told: 60,000 to 80,000, as in the real files."""
    return int(np.random.default_rng([year, month, 7]).integers(60_000, 80_001))


def _choice(
    rng: np.random.Generator, values: list[float], shares: list[float], n: int
) -> np.ndarray:
    p = np.array(shares, dtype=float)
    return rng.choice(np.array(values), size=n, p=p / p.sum())


def generate_month(year: int, month: int, rows: int | None = None, seed: int = 0) -> pa.Table:
    """A month of green-taxi trips as a pyarrow table in :data:`SCHEMA`, by pick-up time.

    Args:
        year: the year of the month (2013 or later).
        month: 1 to 12.
        rows: how many trips (default :func:`default_rows`); at least 100, so that
            every kind of malformed row is there.
        seed: another seed gives other trips in the same city.

    Raises:
        ValueError: the month is not one of the TLC records, or ``rows`` is below 100.
    """
    check_month(year, month)
    n = default_rows(year, month) if rows is None else rows
    if n < 100:
        raise ValueError(f"rows must be at least 100, got {rows}.")
    rng = np.random.default_rng([seed, year, month])
    town = city()

    # Where and when.
    pu = rng.choice(_ZONES, size=n, p=town.popularity)
    do = (town.destinations[pu] < rng.random(n)[:, None]).sum(axis=1)
    start = np.datetime64(f"{year}-{month:02d}-01T00:00:00", "us")
    day = rng.integers(0, calendar.monthrange(year, month)[1], n)
    hour = rng.choice(24, size=n, p=_HOURLY_TRIPS / _HOURLY_TRIPS.sum())
    seconds = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
    pickup = start + seconds.astype("timedelta64[s]")
    weekday = (pickup.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday

    # How far: between the zones' centres along the streets, plus the way in the zones.
    apart = np.hypot(*(town.xy[pu] - town.xy[do]).T) * 1.3
    distance = np.hypot(apart, rng.gamma(2.0, 0.45, n)) * rng.lognormal(0, 0.08, n)
    outside = rng.random(n) < 0.003
    distance[outside] = rng.uniform(8, 30, outside.sum())

    # How long: traffic of the hour and the zones, faster at weekends and on long trips.
    mph = _HOURLY_MPH[hour] * np.sqrt(town.speed[pu] * town.speed[do])
    mph *= np.where(weekday >= 5, 1.15, 1.0) * (1 + 0.35 * np.minimum(distance, 12) / 12)
    minutes = 1.5 + 60 * distance / mph * rng.lognormal(0, 0.2, n)
    held_up = rng.random(n) < 0.06
    minutes[held_up] += rng.exponential(7.0, held_up.sum())
    cancelled = rng.random(n) < 0.015
    distance[cancelled] = 0.0
    minutes[cancelled] = rng.uniform(0.0, 1.2, cancelled.sum())
    do[cancelled] = pu[cancelled]
    distance = np.round(distance, 2)

    # What it cost.
    ratecode = _choice(rng, [1.0, 5.0, 2.0, 3.0, 4.0], [96.0, 2.5, 0.6, 0.4, 0.5], n)
    fare = np.round(3.0 + 3.5 * distance + 0.35 * minutes, 1)
    fare = np.where(ratecode == 5.0, np.round(rng.uniform(8, 45, n)), fare)
    fare = np.where(ratecode == 2.0, 70.0, fare)
    extra = np.where((weekday < 5) & (hour >= 16) & (hour < 20), 1.0, 0.0)
    extra = np.where((hour >= 20) | (hour < 6), 0.5, extra)
    mta_tax = np.where(ratecode == 5.0, 0.0, 0.5)
    payment = _choice(rng, [1.0, 2.0, 3.0, 4.0, 5.0], [60.0, 38.0, 1.2, 0.5, 0.3], n)
    tip = np.where(payment == 1.0, np.round(fare * rng.uniform(0.1, 0.3, n), 2), 0.0)
    tip[rng.random(n) < 0.2] = 0.0
    tolls = np.where((distance > 5) & (rng.random(n) < 0.08), 6.55, 0.0)
    improvement = np.full(n, 1.0 if year >= 2023 else 0.3)
    congestion = np.where(town.core[do] & ~outside, 2.75, 0.0)
    total = np.round(fare + extra + mta_tax + tip + tolls + improvement + congestion, 2)

    columns: dict[str, np.ndarray] = {
        "VendorID": _choice(rng, [2, 1], [86.0, 14.0], n).astype(np.int64),
        "store_and_fwd_flag": np.where(rng.random(n) < 0.004, "Y", "N").astype(object),
        "RatecodeID": ratecode,
        "PULocationID": (pu + 1).astype(np.int64),
        "DOLocationID": np.where(outside, _OUTSIDE_NYC, do + 1).astype(np.int64),
        "passenger_count": _choice(
            rng, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0], [84, 8, 2, 1, 2.5, 1.5, 1], n
        ),
        "trip_distance": distance,
        "fare_amount": fare,
        "extra": extra,
        "mta_tax": mta_tax,
        "tip_amount": tip,
        "tolls_amount": tolls,
        "improvement_surcharge": improvement,
        "total_amount": total,
        "payment_type": payment,
        "trip_type": np.where(ratecode == 5.0, 2.0, 1.0),
        "congestion_surcharge": congestion,
    }
    dropoff = pickup + np.round(minutes * 60_000_000).astype("timedelta64[us]")
    missing = {name: np.zeros(n, dtype=bool) for name in SCHEMA.names}
    # Rows of the real files without these six values (trips sent without them).
    unrecorded = rng.random(n) < 0.04
    for name in ("store_and_fwd_flag", "RatecodeID", "passenger_count"):
        missing[name] |= unrecorded
    for name in ("payment_type", "trip_type", "congestion_surcharge"):
        missing[name] |= unrecorded
    missing["ehail_fee"][:] = True
    _spoil(rng, n, columns, pickup, dropoff, missing)

    order = np.argsort(pickup, kind="stable")
    arrays = []
    for field in SCHEMA:
        if field.name == "lpep_pickup_datetime":
            values: np.ndarray = pickup
        elif field.name == "lpep_dropoff_datetime":
            values = dropoff
        elif field.name == "ehail_fee":
            values = np.zeros(n)
        else:
            values = columns[field.name]
        arrays.append(pa.array(values[order], type=field.type, mask=missing[field.name][order]))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _spoil(
    rng: np.random.Generator,
    n: int,
    columns: dict[str, np.ndarray],
    pickup: np.ndarray,
    dropoff: np.ndarray,
    missing: dict[str, np.ndarray],
) -> None:
    """Make a few rows malformed, about equally many of each of :data:`MALFORMED_KINDS`."""
    per_kind = max(5, n // 2_000)
    rows = rng.choice(n, size=per_kind * len(MALFORMED_KINDS), replace=False)
    negative, backwards, unlocated, hours = np.split(rows, len(MALFORMED_KINDS))
    for name in ("trip_distance", "fare_amount", "total_amount"):
        columns[name][negative] = -np.abs(columns[name][negative]) - 0.5  # refunds
    dropoff[backwards] = pickup[backwards] - (dropoff[backwards] - pickup[backwards])
    half = len(unlocated) // 2
    missing["PULocationID"][unlocated[:half]] = True
    missing["DOLocationID"][unlocated[half:]] = True
    long_meter = rng.uniform(2 * 3_600, 24 * 3_600 - 60, len(hours)) * 1_000_000
    dropoff[hours] = pickup[hours] + long_meter.astype("timedelta64[us]")


def write_month(
    folder: str | Path, year: int, month: int, rows: int | None = None, seed: int = 0
) -> Path:
    """Generate a month and write it as ``folder/green_tripdata_YYYY-MM.parquet``.

    The file is written under a temporary name and renamed into place, so a reader
    never sees half a file. Returns its path.
    """
    table = generate_month(year, month, rows, seed)
    path = Path(folder) / file_name(year, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    pq.write_table(table, partial)
    os.replace(partial, path)
    return path


def ensure_months(
    folder: str | Path, months: list[tuple[int, int]], rows: int | None = None, seed: int = 0
) -> list[Path]:
    """The files of ``months`` in ``folder``, generating those that are missing."""
    paths = []
    for year, month in months:
        path = Path(folder) / file_name(year, month)
        paths.append(path if path.exists() else write_month(folder, year, month, rows, seed))
    return paths
