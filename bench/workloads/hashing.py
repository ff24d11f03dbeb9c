"""Hashing large inputs for cache keys, then a cached task on a DataFrame hit N times.

- Hash a 1,000,000-row taxi DataFrame and a 100 MB float64 array the way each framework's
  INPUTS policy does: cadenza's ``cadenza.hashing.hash_objects``; Prefect's
  ``INPUTS.compute_key`` (its column transform, then ``prefect.utilities.hashing.hash_objects``);
  plain Python: blake2b of the pickled value. Median of 3 after a warm-up on a small frame.
- A task cached on its inputs, taking the DataFrame: the warm-up flow fills the cache, the
  timed flow calls it N times (all hits; plain Python runs the function every time), each
  call timed on its own; the figure is their median.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Callable
from statistics import median
from typing import Any

import taxi
from cache_common import Calls, cached, record_calls
from common import Measurement, load_framework

REPEATS = 3


def plain_hash(value: Any) -> str:
    return hashlib.blake2b(pickle.dumps(value, protocol=5), digest_size=16).hexdigest()


def prefect_hash(value: Any) -> str:
    from prefect.cache_policies import INPUTS

    return INPUTS.compute_key(None, {"value": value}, {})


def prefect_route(value: Any) -> str:
    """Which of its two ways Prefect's hash_objects takes for ``value``: JSON or cloudpickle."""
    from prefect.cache_policies import STABLE_TRANSFORMS, _register_stable_transforms
    from prefect.serializers import JSONSerializer

    _register_stable_transforms()
    transform = STABLE_TRANSFORMS.get(type(value))
    inputs = {"value": transform(value) if transform else value}
    try:
        JSONSerializer(dumps_kwargs={"sort_keys": True}).dumps(((inputs,), {}))
    except Exception as exc:
        return f"cloudpickle (JSON failed: {type(exc).__name__})"
    return "json"


def hasher(framework: str) -> Callable[[Any], str]:
    if framework == "cadenza":
        from cadenza.hashing import hash_objects

        return hash_objects
    return prefect_hash if framework == "prefect" else plain_hash


def time_hash(hash_fn: Callable[[Any], str], value: Any) -> tuple[float, list[float], str]:
    """Median seconds of ``REPEATS`` hashes of ``value``, every sample, and the digest."""
    samples = []
    digests = set()
    for _ in range(REPEATS):
        started = time.perf_counter()
        digests.add(hash_fn(value))
        samples.append(time.perf_counter() - started)
    if len(digests) != 1:
        raise SystemExit(f"hashing the same value gave {len(digests)} different digests")
    return median(samples), samples, digests.pop()


measurement = Measurement()
flow, task = load_framework(measurement.framework)
figures = measurement.figures
frame = taxi.trips()
array = taxi.floats()
figures["frame"] = taxi.describe(frame)
figures["array_bytes"] = array.nbytes

hash_fn = hasher(measurement.framework)
hash_fn(taxi.trips(1_000))
for name, value in (("frame", frame), ("array", array)):
    seconds, samples, digest = time_hash(hash_fn, value)
    figures[f"hash_{name}_seconds"] = seconds
    figures[f"hash_{name}_samples"] = samples
    figures[f"hash_{name}_digest"] = digest
    if measurement.framework == "prefect":
        figures[f"hash_{name}_route"] = prefect_route(value)
del array

summary = taxi.fare_summary(frame)


@cached(measurement.framework, task)
def summarize(trips: Any) -> dict[str, Any]:
    Calls.count += 1
    return taxi.fare_summary(trips)


call_seconds: list[float] = []


@flow
def summaries(n: int) -> dict[str, Any]:
    call_seconds.clear()
    result: dict[str, Any] = {}
    for _ in range(n):
        started = time.perf_counter()
        result = summarize(frame)
        call_seconds.append(time.perf_counter() - started)
    return result


measurement.run_flow(summaries, expected=lambda n: summary)
figures["frame_task_call_seconds"] = median(call_seconds)
figures["frame_task_call_samples"] = list(call_seconds)
record_calls(figures, 1 if measurement.framework != "plain" else measurement.n + 1)
