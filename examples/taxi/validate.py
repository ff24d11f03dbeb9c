"""Reading a month's file and keeping the trips a model can learn from.

A trip is kept when it has both location ids, both times, a distance of zero or more,
and a duration (drop-off minus pick-up) of 1 to 60 minutes, as in the MLOps Zoomcamp
course. Every other row is counted under the first reason that rules it out; the
counts are logged and returned with the trips, so the report of the run shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cadenza import get_run_logger, task
from cadenza.cache_policies import TASK_SOURCE, CacheContext, CachePolicy
from examples.taxi.download import MonthFile
from examples.taxi.errors import InvalidMonthData, NoUsableRows
from examples.taxi.months import label

if TYPE_CHECKING:
    import pandas as pd

MIN_MINUTES = 1.0
MAX_MINUTES = 60.0
HOURS_LONG = 180.0
"""A trip longer than this (in minutes) is a meter left running, not a trip."""

REQUIRED_COLUMNS = (
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "PULocationID",
    "DOLocationID",
    "trip_distance",
)
MALFORMED = (
    "missing location id",
    "missing pick-up or drop-off time",
    "negative or missing distance",
    "drop-off before pick-up",
    "meter running for hours",
)
"""Reasons a row is malformed, in the order they are checked."""
OUT_OF_RANGE = ("shorter than 1 minute", "longer than 60 minutes")
"""Reasons a well-formed trip is left out of training."""


@dataclass(frozen=True)
class DataQuality:
    """What reading a month kept and dropped."""

    rows: int
    kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    """Rows dropped, by reason (every reason of :data:`MALFORMED` and :data:`OUT_OF_RANGE`)."""

    @property
    def malformed(self) -> int:
        return sum(self.dropped.get(reason, 0) for reason in MALFORMED)

    @property
    def out_of_range(self) -> int:
        return sum(self.dropped.get(reason, 0) for reason in OUT_OF_RANGE)

    def describe(self, reasons: tuple[str, ...]) -> str:
        """``35 negative or missing distance, 12 drop-off before pick-up`` (counts above 0)."""
        parts = [f"{self.dropped[r]:,} {r}" for r in reasons if self.dropped.get(r)]
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class MonthTrips:
    """The usable trips of one month, with ``duration`` in minutes."""

    year: int
    month: int
    trips: pd.DataFrame
    """Columns ``lpep_pickup_datetime``, ``PULocationID``, ``DOLocationID`` (int64),
    ``trip_distance`` and ``duration``."""
    quality: DataQuality

    @property
    def label(self) -> str:
        return label(self.year, self.month)


@dataclass(frozen=True)
class FileContent(CachePolicy):
    """A cache key from what a :class:`MonthFile` holds, not from where it came from.

    The same bytes downloaded from another mirror, or kept in another folder, give
    the same key: reading them again would give the same trips.
    """

    argument: str = "file"

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        file: MonthFile = inputs[self.argument]
        return f"{label(file.year, file.month)}:{file.sha256}"


@task(cache_policy=FileContent() + TASK_SOURCE, task_run_name="read-{file.year}-{file.month:02d}")
def read_month(file: MonthFile) -> MonthTrips:
    """Read a month's parquet file, report and drop the rows that cannot be used.

    Raises:
        InvalidMonthData: the file is no parquet file, or lacks the columns of the
            TLC's green-taxi files.
        NoUsableRows: no row is left.
    """
    import pandas as pd
    import pyarrow as pa

    name = file.path.name
    try:
        df = pd.read_parquet(file.path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidMonthData(
            f"{file.path} cannot be read as parquet ({type(exc).__name__}: {exc}). "
            "Remove it so that it is downloaded again, or check the source."
        ) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    times = ("lpep_pickup_datetime", "lpep_dropoff_datetime")
    untimed = [c for c in times if c in df.columns and not pd.api.types.is_datetime64_dtype(df[c])]
    if missing or untimed:
        problems = [f"no column {c}" for c in missing] + [f"{c} holds no times" for c in untimed]
        raise InvalidMonthData(
            f"{name} is not a TLC green-taxi file: {'; '.join(problems)}. It needs the "
            f"columns {', '.join(REQUIRED_COLUMNS)} (see the TLC's data dictionary)."
        )

    pickup, dropoff = df["lpep_pickup_datetime"], df["lpep_dropoff_datetime"]
    minutes = (dropoff - pickup).dt.total_seconds() / 60
    distance = pd.to_numeric(df["trip_distance"], errors="coerce")
    checks = (
        df["PULocationID"].isna() | df["DOLocationID"].isna(),
        pickup.isna() | dropoff.isna(),
        ~(distance >= 0),
        minutes < 0,
        minutes > HOURS_LONG,
        minutes < MIN_MINUTES,
        minutes > MAX_MINUTES,
    )
    keep = pd.Series(True, index=df.index)
    dropped: dict[str, int] = {}
    for reason, ruled_out in zip(MALFORMED + OUT_OF_RANGE, checks, strict=True):
        hit = ruled_out & keep
        dropped[reason] = int(hit.sum())
        keep &= ~hit
    quality = DataQuality(rows=len(df), kept=int(keep.sum()), dropped=dropped)

    month = label(file.year, file.month)
    if quality.kept == 0:
        raise NoUsableRows(
            f"{name} ({file.path}) has no usable trip in its {quality.rows:,} rows: "
            f"malformed: {quality.describe(MALFORMED)}; outside {MIN_MINUTES:g} to "
            f"{MAX_MINUTES:g} minutes: {quality.describe(OUT_OF_RANGE)}. Check that the "
            f"file holds the trips of {month}."
        )
    logger = get_run_logger()
    if quality.malformed:
        logger.warning(
            "%s: dropped %s malformed rows (%s)",
            month,
            f"{quality.malformed:,}",
            quality.describe(MALFORMED),
        )
    logger.info(
        "%s: kept %s of %s trips (%s outside %g to %g minutes)",
        month,
        f"{quality.kept:,}",
        f"{quality.rows:,}",
        f"{quality.out_of_range:,}",
        MIN_MINUTES,
        MAX_MINUTES,
    )
    trips = pd.DataFrame(
        {
            "lpep_pickup_datetime": pickup[keep],
            "PULocationID": df["PULocationID"][keep].astype("int64"),
            "DOLocationID": df["DOLocationID"][keep].astype("int64"),
            "trip_distance": distance[keep].astype("float64"),
            "duration": minutes[keep],
        }
    ).reset_index(drop=True)
    return MonthTrips(file.year, file.month, trips, quality)
