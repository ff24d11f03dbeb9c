"""The figures of each workload, computed from the processes a session runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from statistics import median

from harness import targets
from harness.processes import ProcessRun
from harness.rows import RecordingRow, Row
from harness.session import Session

TASK_WORKLOADS = {
    "sequential": "sequential task call",
    "submit": ".submit() + .result()",
    "map": ".map() + .result()",
}


def median_of(
    runs: Iterable[ProcessRun], figure: Callable[[ProcessRun], float | None]
) -> float | None:
    values = [value for run in runs if run.ok and (value := figure(run)) is not None]
    return median(values) if values else None


def _done_seconds(run: ProcessRun) -> float | None:
    return run.figures.get("done_seconds")


def task_overhead(session: Session, workload: str) -> Row:
    """Marginal cost per task from two flow sizes, less plain Python's cost per call.

    A flow's time runs from its call until the end of the process's exit handlers, so
    that work a framework defers to the exit is counted. Each process warms up with a
    one-task flow first; what does not depend on N cancels out in the difference.
    """
    small, big = session.plan.sizes
    marginal = {
        name: marginal_us(session, workload, name, session.plan.sizes)
        for name in session.framework_names
    }
    values = less_plain(marginal)
    target = targets.SEQUENTIAL_OVERHEAD if workload == "sequential" else None
    label = f"{TASK_WORKLOADS[workload]}, overhead per task (N={small:,}→{big:,})"
    notes = {"plain": "per call"}
    return Row(f"{workload}_overhead_us", label, "µs", values, notes, target)


def marginal_us(
    session: Session, workload: str, framework: str, sizes: tuple[int, int]
) -> float | None:
    """``(t(big) - t(small)) / (big - small)`` in µs, medians of the plan's processes per size."""
    small, big = sizes
    reps = session.plan.reps_for(framework)
    times = [
        median_of(session.repeated(workload, framework, n, reps), _done_seconds) for n in sizes
    ]
    if times[0] is None or times[1] is None:
        return None
    return (times[1] - times[0]) / (big - small) * 1e6


def less_plain(marginal: dict[str, float | None]) -> dict[str, float | None]:
    """Each framework's cost less plain Python's (which stays as it is, per call)."""
    base = marginal.get("plain")
    values: dict[str, float | None] = {"plain": base}
    for name, cost in marginal.items():
        if name != "plain":
            values[name] = None if cost is None or base is None else cost - base
    return values


def startup(session: Session) -> list[Row]:
    """Wall time of ``python one_task.py`` with an empty home and with an existing database."""
    reps = session.plan.startup_reps
    empty: dict[str, float | None] = {}
    existing: dict[str, float | None] = {}
    for name in session.framework_names:
        home = session.new_home(name)
        session.run("startup-warmup", "one_task", name, 1, home=home)
        runs = [session.run("startup-empty", "one_task", name, 1) for _ in range(reps)]
        empty[name] = median_of(runs, lambda run: run.wall_seconds)
        if name == "plain":
            existing[name] = empty[name]
            continue
        runs = [
            session.run("startup-existing", "one_task", name, 1, home=home) for _ in range(reps)
        ]
        existing[name] = median_of(runs, lambda run: run.wall_seconds)
    notes = {"plain": "no database"}
    return [
        Row(
            "one_task_flow_empty_home_s",
            "fresh process to a finished one-task flow, empty home",
            "s",
            empty,
            target=targets.ONE_TASK_FLOW,
        ),
        Row(
            "one_task_flow_existing_db_s",
            "fresh process to a finished one-task flow, existing database",
            "s",
            existing,
            notes,
            targets.ONE_TASK_FLOW,
        ),
    ]


def imports(session: Session) -> list[Row]:
    """``import FRAMEWORK`` and ``from FRAMEWORK import flow, task``, timed inside the process."""
    reps = session.plan.startup_reps
    module: dict[str, float | None] = {"plain": None}
    decorators: dict[str, float | None] = {"plain": None}
    for name in session.framework_names:
        if name == "plain":
            continue
        session.run("import-warmup", "import_only", name, 0)
        runs = [session.run("import", "import_only", name, 0) for _ in range(reps)]
        seconds = median_of(runs, lambda run: run.figures.get("import_seconds"))
        module[name] = None if seconds is None else seconds * 1000
        seconds = median_of(runs, lambda run: run.figures.get("import_flow_task_seconds"))
        decorators[name] = None if seconds is None else seconds * 1000
    return [
        Row("import_ms", "import cadenza / import prefect", "ms", module, target=targets.IMPORT),
        Row("import_flow_task_ms", "from … import flow, task", "ms", decorators),
    ]


def _peak_mb(run: ProcessRun) -> float:
    own = run.figures.get("maxrss_self_kib", run.maxrss_kib)
    children = run.figures.get("maxrss_children_kib", 0)
    return (own + children) * 1024 / 1e6


def _peak_note(runs: list[ProcessRun]) -> str:
    """Names the parts of a peak that includes a child process (Prefect's API server)."""
    for run in runs:
        children = run.figures.get("maxrss_children_kib") if run.ok else None
        if children:
            own = run.figures["maxrss_self_kib"] * 1024 / 1e6
            return f"{own:.0f} + {children * 1024 / 1e6:.0f} server"
    return ""


def _peak_row(session: Session, size: int, names: list[str], target: targets.Target | None) -> Row:
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for name in session.framework_names:
        if name not in names:
            values[name] = None
            notes[name] = f"too slow: see N={session.plan.memory_size_for(name):,}"
            continue
        runs = session.repeated("sequential", name, size, 1)
        values[name] = median_of(runs, _peak_mb)
        if note := _peak_note(runs):
            notes[name] = note
    label = f"peak memory, sequential flow of {size:,} tasks"
    return Row(f"peak_memory_{size}_mb", label, "MB", values, notes, target)


def memory(session: Session) -> list[Row]:
    """Peak memory (ru_maxrss) of a sequential flow; Prefect's at a smaller size."""
    plan = session.plan
    names = session.framework_names
    large = [name for name in names if plan.memory_size_for(name) == plan.memory_size]
    rows = [_peak_row(session, plan.memory_size, large, targets.PEAK_MEMORY)]
    if plan.prefect_memory_size != plan.memory_size and "prefect" in names:
        rows.append(_peak_row(session, plan.prefect_memory_size, names, None))
    return rows


def recording(session: Session) -> list[RecordingRow]:
    """Task runs found in each framework's database against task runs executed, per case."""
    totals: dict[str, dict[str, tuple[int, int]]] = {}
    for case, run in session.runs:
        if run.recorded is None or not run.tasks:
            continue
        counts = totals.setdefault(case, {})
        recorded, executed = counts.get(run.framework, (0, 0))
        counts[run.framework] = (recorded + run.recorded, executed + run.tasks)
    return [RecordingRow(case, counts) for case, counts in totals.items()]
