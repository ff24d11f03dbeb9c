"""Durations, times, ``--since`` and levels of the command line."""

from __future__ import annotations

import datetime as dt

import pytest

from cadenza.cli.output import (
    CliError,
    format_duration,
    iso_utc,
    local_time,
    parse_level,
    parse_since,
    run_duration,
)
from cadenza.states import Completed, Running


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0.0, "<1ms"),
        (0.0004, "<1ms"),
        (0.0123, "12ms"),
        (0.9996, "1.0s"),
        (1.23, "1.2s"),
        (59.94, "59.9s"),
        (59.96, "1m00s"),
        (184.0, "3m04s"),
        (7500.0, "2h05m"),
        (2 * 86400 + 3 * 3600 + 5, "2d03h"),
        (-1.0, "<1ms"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_run_duration_of_a_running_run() -> None:
    assert run_duration(100.0, None, Running(), now=165.0) == "1m05s…"
    assert run_duration(100.0, 101.5, Completed()) == "1.5s"
    assert run_duration(None, None, None) == "-"


def test_iso_utc() -> None:
    assert iso_utc(0.25) == "1970-01-01T00:00:00.250Z"
    assert iso_utc(None) is None


def test_local_time() -> None:
    ts = dt.datetime(2026, 1, 31, 9, 30, 5, 250_000).timestamp()
    assert local_time(ts) == "2026-01-31 09:30:05"
    assert local_time(ts, ms=True) == "2026-01-31 09:30:05.250"
    assert local_time(None) == "-"


@pytest.mark.parametrize(
    ("value", "seconds_back"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("1w", 604800), ("1.5H", 5400)],
)
def test_since_spans(value: str, seconds_back: float) -> None:
    assert parse_since(value, now=1_000_000.0) == 1_000_000.0 - seconds_back


def test_since_dates() -> None:
    assert parse_since("2026-01-31") == dt.datetime(2026, 1, 31).timestamp()
    assert parse_since("2026-01-31T08:00") == dt.datetime(2026, 1, 31, 8).timestamp()
    utc = dt.datetime(2026, 1, 31, 8, tzinfo=dt.UTC).timestamp()
    assert parse_since("2026-01-31T08:00:00Z") == utc


@pytest.mark.parametrize("value", ["", "h", "1y", "-1h", "31/01/2026", "soon"])
def test_bad_since(value: str) -> None:
    with pytest.raises(CliError, match="is neither a span nor a date"):
        parse_since(value)


def test_levels() -> None:
    assert parse_level("info") == 20
    assert parse_level("WARN") == 30
    assert parse_level("25") == 25
    with pytest.raises(CliError, match="is not a logging level"):
        parse_level("verbose")
