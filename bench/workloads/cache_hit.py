"""A cached task called N times with the same small input: every call after the first is a hit.

The warm-up flow fills the cache (one miss, one result written); the timed flow's N calls
must all be hits, which the count of real calls checks (it must stay at 1).
"""

from cache_common import Calls, cached, record_calls
from common import Measurement, load_framework

INPUT = 41

measurement = Measurement()
flow, task = load_framework(measurement.framework)


@cached(measurement.framework, task)
def lookup(x: int) -> int:
    Calls.count += 1
    return x + 1


@flow
def cache_hits(n: int) -> int:
    total = 0
    for _ in range(n):
        total += lookup(INPUT)
    return total


measurement.run_flow(cache_hits, expected=lambda n: n * (INPUT + 1))
record_calls(measurement.figures, 1 if measurement.framework != "plain" else measurement.n + 1)
