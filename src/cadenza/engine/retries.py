"""Retry delays: a number, a list of numbers, or ``exponential_backoff(...)``."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

RetryDelay = float | int | Sequence[float | int] | Callable[[int], Sequence[float]]


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Delays growing as ``backoff_factor * 2 ** n`` for the n-th retry (Prefect's helper).

    Example:
        >>> @task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10))
        ... def download(url): ...  # waits 10 s, 20 s, then 40 s
    """
    if backoff_factor < 0:
        raise ValueError(f"backoff_factor must be 0 or more, got {backoff_factor}.")

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**n for n in range(retries)]

    return delays


def check_retry_options(
    owner: str, retries: int | None, delay: RetryDelay | None, jitter: float | None
) -> None:
    """Raise a clear error for retry options that cannot work."""
    if retries is not None and (not isinstance(retries, int) or retries < 0):
        raise ValueError(f"{owner}: retries must be a whole number of 0 or more, got {retries!r}.")
    if delay is not None and not callable(delay):
        values = delay if isinstance(delay, Sequence) else [delay]
        if isinstance(values, str) or not values:
            raise ValueError(
                f"{owner}: retry_delay_seconds must be a number, a non-empty list of "
                f"numbers or exponential_backoff(...), got {delay!r}."
            )
        for v in values:
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{owner}: retry_delay_seconds must be 0 or more, got {v!r}.")
    if jitter is not None and (not isinstance(jitter, int | float) or jitter < 0):
        raise ValueError(f"{owner}: retry_jitter_factor must be 0 or more, got {jitter!r}.")


def retry_delay(
    delay: RetryDelay | None, retries: int, attempt: int, jitter: float | None
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
    if delay is None:
        return 0.0
    if callable(delay):
        delays: Sequence[float | int] = delay(retries) or [0]
    elif isinstance(delay, Sequence):
        delays = delay
    else:
        delays = [delay]
    seconds = float(delays[min(attempt - 1, len(delays) - 1)])
    if jitter:
        seconds = random.uniform(max(0.0, seconds * (1 - jitter)), seconds * (1 + jitter))
    return seconds
