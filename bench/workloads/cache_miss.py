"""A cached task called N times with a new input each time: every call misses and writes.

Each call hashes its input, finds nothing in the result storage, runs the function and
persists its result; the count of real calls checks that none of them was a hit.
"""

import itertools

from cache_common import Calls, cached, record_calls
from common import Measurement, load_framework

measurement = Measurement()
flow, task = load_framework(measurement.framework)
fresh_inputs = itertools.count()


@cached(measurement.framework, task)
def compute(x: int) -> int:
    Calls.count += 1
    return x + 1


@flow
def cache_misses(n: int) -> int:
    total = 0
    for _ in range(n):
        x = next(fresh_inputs)
        total += compute(x) - x
    return total


measurement.run_flow(cache_misses, expected=lambda n: n)
record_calls(measurement.figures, measurement.n + 1)
