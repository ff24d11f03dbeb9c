"""Months of the TLC trip records: file names and the month after."""

from __future__ import annotations

import datetime as dt

FIRST_YEAR = 2013
"""The green-taxi records start in August 2013."""


def check_month(year: int, month: int) -> None:
    """Raise ValueError naming the problem when ``year-month`` is not a month of the records."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1 to 12, got {month}.")
    if year < FIRST_YEAR or (year == FIRST_YEAR and month < 8):
        raise ValueError(
            f"{year}-{month:02d} is before the first green-taxi month (2013-08); "
            "pick a later year and month."
        )


def next_month(year: int, month: int) -> tuple[int, int]:
    """The month after ``year-month``: December rolls over to January of the next year."""
    return (year + 1, 1) if month == 12 else (year, month + 1)


def file_name(year: int, month: int) -> str:
    """The TLC's name of a month's file: ``green_tripdata_2023-01.parquet``."""
    return f"green_tripdata_{year}-{month:02d}.parquet"


def label(year: int, month: int) -> str:
    """``2023-01``."""
    return f"{year}-{month:02d}"


def months_before(year: int, month: int, count: int) -> tuple[int, int]:
    """The month ``count`` months before ``year-month`` (after it for a negative count)."""
    index = year * 12 + (month - 1) - count
    return index // 12, index % 12 + 1


def training_month_for(when: dt.date, months_back: int = 1) -> tuple[int, int]:
    """The training month of a run due at ``when``.

    Its validation month is the month ``months_back`` months before the month of
    ``when`` (1: the month that ended last), and the training month the one before
    that: a run due on 2 March 2025 trains on January and validates on February.
    """
    return months_before(when.year, when.month, months_back + 1)
