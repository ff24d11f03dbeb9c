"""A small training pipeline on cadenza, with nothing but the standard library.

It downloads (here: generates) three months of trip data from a source that fails
now and then, cleans each month in parallel, fits a linear model of trip duration
on distance, and evaluates it on the next month. Every step is a task run in the
embedded store: look at them afterwards with ``cadenza runs ls`` and
``cadenza runs show RUN_ID``.

Run it with ``make demo`` or ``python examples/quickstart.py``.
"""

from __future__ import annotations

import random
import statistics

from cadenza import exponential_backoff, flow, get_run_logger, task


class SourceUnavailable(ConnectionError):
    """The data source did not answer (it fails on purpose, to show retries)."""


_attempts: dict[tuple[int, int], int] = {}


@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=0.05))
def download(period: tuple[int, int], rows: int = 2_000) -> list[dict[str, float]]:
    """Trips of one month: distance in miles and duration in minutes."""
    year, month = period
    _attempts[period] = _attempts.get(period, 0) + 1
    if _attempts[period] <= month % 3:  # some months need a retry or two
        raise SourceUnavailable(f"trip source did not answer for {year}-{month:02d}")
    rng = random.Random(year * 100 + month)
    trips = []
    for _ in range(rows):
        distance = rng.lognormvariate(0.7, 0.6)
        duration = 4 + 3.1 * distance + rng.gauss(0, 2.5)
        trips.append({"distance": distance, "duration": duration})
    trips.append({"distance": -1.0, "duration": 5.0})  # a malformed row
    return trips


@task
def clean(trips: list[dict[str, float]]) -> list[dict[str, float]]:
    """Keep trips with a positive distance and a duration of 1 to 60 minutes."""
    kept = [t for t in trips if t["distance"] > 0 and 1 <= t["duration"] <= 60]
    get_run_logger().info("kept %d of %d trips", len(kept), len(trips))
    return kept


@task
def fit(trips: list[dict[str, float]]) -> tuple[float, float]:
    """Least-squares line: duration = intercept + slope * distance."""
    xs = [t["distance"] for t in trips]
    ys = [t["duration"] for t in trips]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


@task
def rmse(model: tuple[float, float], trips: list[dict[str, float]]) -> float:
    intercept, slope = model
    errors = [(intercept + slope * t["distance"] - t["duration"]) ** 2 for t in trips]
    return (sum(errors) / len(errors)) ** 0.5


def shift(year: int, month: int, by: int) -> tuple[int, int]:
    """The month ``by`` months after (or before, if negative) ``year-month``."""
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


@flow(log_prints=True)
def prepare(periods: list[tuple[int, int]]) -> list[dict[str, float]]:
    """Download and clean several months concurrently, then concatenate them."""
    cleaned = clean.map(download.map(periods))
    trips = [t for month in cleaned.result() for t in month]
    print(f"prepared {len(trips)} trips from {len(periods)} months")
    return trips


@flow(log_prints=True)
def train_duration_model(year: int = 2024, month: int = 3, months_of_history: int = 3) -> float:
    """Train on ``months_of_history`` months up to ``month``; validate on the next."""
    periods = [shift(year, month, -k) for k in reversed(range(months_of_history))]
    train = prepare(periods)
    valid = clean(download(shift(year, month, 1)))
    model = fit(train)
    score = rmse(model, valid)
    print(
        f"model: duration = {model[0]:.2f} + {model[1]:.2f} * distance; validation RMSE {score:.2f} min"
    )
    return score


if __name__ == "__main__":
    train_duration_model()
    print("See the runs: cadenza runs ls, then cadenza runs show RUN_ID")
    print("or in the dashboard: cadenza server start, then open http://127.0.0.1:4200")
