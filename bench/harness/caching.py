"""The figures of the caching workloads: cache hits, misses with writes, hashing large inputs.

Every cached-task process counts the real calls of its task's function; a framework whose
count is not what hits and misses imply gets no figure, and the row says why.
"""

from __future__ import annotations

from harness import targets
from harness.measures import less_plain, marginal_us, median_of
from harness.plan import Plan
from harness.processes import ProcessRun
from harness.rows import Row
from harness.session import Session

CACHE_WORKLOADS = {
    "cache_hit": "cached task (INPUTS, persisted), hit",
    "cache_miss": "cached task (INPUTS, persisted), miss + write",
}
HASH_NOTES = {"plain": "pickle + blake2b"}
PREFECT_ROUTES = {"cloudpickle": "cloudpickle + md5", "json": "JSON + md5"}


def _wrong_calls(runs: list[ProcessRun]) -> str | None:
    """What went wrong with the cache in ``runs`` (function calls against those expected)."""
    for run in runs:
        calls = run.figures.get("function_calls")
        expected = run.figures.get("expected_function_calls")
        if run.ok and calls != expected:
            return f"cache not used as expected: {calls:,} calls, expected {expected:,}"
    return None


def _runs(
    session: Session, workload: str, framework: str, sizes: tuple[int, ...]
) -> list[ProcessRun]:
    reps = session.plan.reps_for(framework)
    return [run for n in sizes for run in session.repeated(workload, framework, n, reps)]


def cache_overhead(session: Session, workload: str) -> Row:
    """Marginal cost per cached-task call from two flow sizes, less plain Python's per call.

    Prefect runs at smaller sizes (``Plan.prefect_cache_sizes``), which its note gives.
    """
    plan = session.plan
    marginal: dict[str, float | None] = {}
    notes = {"plain": "per call"}
    for name in session.framework_names:
        sizes = plan.cache_sizes_for(name)
        marginal[name] = marginal_us(session, workload, name, sizes)
        if sizes != plan.sizes:
            notes[name] = f"N={sizes[0]:,}→{sizes[1]:,}"
        if problem := _wrong_calls(_runs(session, workload, name, sizes)):
            marginal[name] = None
            notes[name] = problem
    small, big = plan.sizes
    label = f"{CACHE_WORKLOADS[workload]}, overhead per task (N={small:,}→{big:,})"
    return Row(f"{workload}_overhead_us", label, "µs", less_plain(marginal), notes)


def _route_note(runs: list[ProcessRun], key: str) -> str:
    """How Prefect's hash_objects got its bytes: JSON, or cloudpickle after JSON failed."""
    for run in runs:
        route = run.figures.get(key)
        if run.ok and route:
            return PREFECT_ROUTES.get(route.split()[0], route)
    return ""


def _figure(runs: list[ProcessRun], key: str, scale: float = 1.0) -> float | None:
    value = median_of(runs, lambda run: run.figures.get(key))
    return None if value is None else value * scale


def hashing(session: Session) -> list[Row]:
    """Hash times of the DataFrame and the array, and the cached task on the DataFrame."""
    calls = session.plan.frame_calls
    frame: dict[str, float | None] = {}
    array: dict[str, float | None] = {}
    per_call: dict[str, float | None] = {}
    hash_notes = dict(HASH_NOTES)
    frame_notes = dict(HASH_NOTES)
    call_notes = {"plain": "runs the function"}
    frames: set[str] = set()
    for name in session.framework_names:
        runs = _runs(session, "hashing", name, (calls,))
        frames |= {run.figures["frame"] for run in runs if run.ok and "frame" in run.figures}
        frame[name] = _figure(runs, "hash_frame_seconds")
        array[name] = _figure(runs, "hash_array_seconds")
        per_call[name] = _figure(runs, "frame_task_call_seconds", 1000)
        if name == "prefect":
            frame_notes[name] = _route_note(runs, "hash_frame_route")
            hash_notes[name] = _route_note(runs, "hash_array_route")
        if problem := _wrong_calls(runs):
            per_call[name] = None
            call_notes[name] = problem
    if len(frames) > 1:
        frame_notes["cadenza"] = "the frameworks built different frames: see latest.json"
    return [
        Row(
            "hash_frame_1m_rows_s",
            "hash a 1,000,000-row taxi DataFrame (11 columns), as INPUTS does",
            "s",
            frame,
            frame_notes,
            targets.HASH_FRAME,
        ),
        Row(
            "hash_array_100mb_s",
            "hash a 100 MB float64 array, as INPUTS does",
            "s",
            array,
            hash_notes,
        ),
        Row(
            "frame_task_hit_ms",
            f"cached task taking that DataFrame, hit, per call (median of {calls})",
            "ms",
            per_call,
            call_notes,
        ),
    ]


def notes(plan: Plan) -> list[str]:
    """How the caching figures were measured, for RESULTS.md."""
    small, big = plan.prefect_cache_sizes
    return [
        "Cache hit: a flow calls a task with cache_policy=INPUTS and persist_result=True "
        "(results in the default local storage under the process's home) N times with the "
        "same small input, after a warm-up flow that filled the cache; cache miss + write: "
        "a new input on every call. Overhead per task as above, less a plain Python call; "
        f"Prefect runs them at N={small:,} and {big:,}. Every process counts the real calls "
        "of the task's function (1 for hits, N+1 for misses): a figure is given only when "
        "the count is right.",
        "Hashing: median of 3 in one process, after a warm-up on a small frame, of what each "
        "framework's INPUTS policy does with the value: cadenza's cadenza.hashing.hash_objects; "
        "Prefect's INPUTS.compute_key (its DataFrame-to-columns transform, then "
        "prefect.utilities.hashing.hash_objects, which tries JSON and falls back to cloudpickle "
        "bytes hashed with md5); plain Python: blake2b of the value's pickle. The DataFrame "
        "has 1,000,000 NYC-taxi-like rows (ints, floats, two datetime columns, a categorical "
        "payment type, a string flag); the same numpy, pandas and pyarrow versions are installed "
        "next to each framework, so all hash the same frame.",
        f"Cached task on the DataFrame: a task cached on its inputs that summarizes the frame, "
        f"called {plan.frame_calls} times after a warm-up flow filled the cache; each call timed "
        "inside the flow, median. Plain Python runs the summary every time: what a hit saves.",
    ]
