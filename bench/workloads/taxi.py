"""Test data for the hashing workload: NYC-taxi-like trips and a large float64 array.

Built from a seeded generator, so every framework's process gets the same values (the
same numpy, pandas and pyarrow versions are installed next to each framework).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TRIP_ROWS = 1_000_000
ARRAY_BYTES = 100_000_000
PAYMENT_TYPES = ["card", "cash", "no_charge", "dispute", "unknown"]


def trips(rows: int = TRIP_ROWS, seed: int = 2024) -> pd.DataFrame:
    """One month of taxi trips: ints, floats, datetimes, a categorical and a string column."""
    rng = np.random.default_rng(seed)
    pickup = np.datetime64("2024-03-01T00:00:00", "s") + rng.integers(0, 31 * 86_400, rows)
    minutes = rng.gamma(2.0, 7.0, rows)
    distance = rng.gamma(2.0, 1.6, rows).round(2)
    fare = (3.0 + 2.5 * distance + 0.5 * minutes).round(2)
    return pd.DataFrame(
        {
            "vendor_id": rng.integers(1, 3, rows),
            "pickup_datetime": pickup,
            "dropoff_datetime": pickup + (minutes * 60).astype("timedelta64[s]"),
            "passenger_count": rng.integers(1, 7, rows),
            "trip_distance": distance,
            "pickup_location_id": rng.integers(1, 266, rows),
            "dropoff_location_id": rng.integers(1, 266, rows),
            "payment_type": pd.Categorical.from_codes(
                rng.integers(0, len(PAYMENT_TYPES), rows), categories=PAYMENT_TYPES
            ),
            "fare_amount": fare,
            "tip_amount": (fare * rng.uniform(0.0, 0.3, rows)).round(2),
            "store_and_fwd_flag": np.where(rng.random(rows) < 0.01, "Y", "N"),
        }
    )


def floats(size_bytes: int = ARRAY_BYTES, seed: int = 7) -> np.ndarray:
    """A float64 array of ``size_bytes`` bytes."""
    return np.random.default_rng(seed).random(size_bytes // 8)


def fare_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Mean fare, tip rate and trip count per payment type: what the cached task computes."""
    grouped = frame.assign(tip_rate=frame["tip_amount"] / frame["fare_amount"]).groupby(
        "payment_type", observed=True
    )
    table = grouped.agg(
        trips=("fare_amount", "size"),
        mean_fare=("fare_amount", "mean"),
        tip_rate=("tip_rate", "mean"),
    )
    return {str(kind): tuple(float(v) for v in row) for kind, row in table.iterrows()}


def describe(frame: pd.DataFrame) -> str:
    """Rows, columns and dtypes, to check that every framework hashed the same frame."""
    columns = ", ".join(f"{name}:{dtype}" for name, dtype in frame.dtypes.items())
    return f"{len(frame)} rows; {columns}"
