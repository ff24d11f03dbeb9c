"""What the caching workloads share: a framework's INPUTS policy, and a count of real calls.

A cached task's function runs only on a miss, so counting its calls tells hits from
misses whatever the framework reports: a workload checks the count before its figures
are trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Calls:
    """How many times the functions of cached tasks actually ran."""

    count = 0


def cached(framework: str, task: Callable[..., Any]) -> Callable[..., Any]:
    """``task`` configured to cache on its inputs and persist results in the default storage.

    plain: the function itself (a plain Python call, no cache).
    """
    if framework == "plain":
        return task
    if framework == "cadenza":
        from cadenza.cache_policies import INPUTS
    else:
        from prefect.cache_policies import INPUTS
    return task(cache_policy=INPUTS, persist_result=True)


def record_calls(figures: dict[str, Any], expected: int) -> None:
    """Put the count of real calls in the figures, and whether it is what hits and misses imply."""
    figures["function_calls"] = Calls.count
    figures["expected_function_calls"] = expected
