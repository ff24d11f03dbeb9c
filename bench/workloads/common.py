"""What the workload scripts share: the framework under test, the timing, the figures file.

A workload runs as ``python WORKLOAD.py FRAMEWORK N`` in a fresh process. It writes its
figures as JSON to the file named by ``BENCH_RESULT_PATH`` (or prints them) when the
process ends, from an exit handler registered before the framework is imported, so that
it runs after the framework's own exit handlers: the figures include any work the
framework defers to the end of the process.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Callable
from typing import Any

FRAMEWORKS = ("plain", "cadenza", "prefect", "mlflow")
USAGE = f"usage: python {os.path.basename(sys.argv[0])} {{{','.join(FRAMEWORKS)}}} N"


class Done:
    """The outcome of a plain call, shaped like a future."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


def plain_flow(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def plain_task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function itself, so that a call costs what a Python call costs."""
    fn.submit = lambda *args, **kwargs: Done(fn(*args, **kwargs))  # type: ignore[attr-defined]
    fn.map = lambda items: [Done(fn(item)) for item in items]  # type: ignore[attr-defined]
    return fn


def load_framework(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The ``flow`` and ``task`` decorators of a framework."""
    if name == "cadenza":
        from cadenza import flow, task
    elif name == "prefect":
        from prefect import flow, task
    else:
        flow, task = plain_flow, plain_task
    return flow, task


class Measurement:
    """Reads the command line, times the flow and writes the figures at exit."""

    def __init__(self) -> None:
        if len(sys.argv) != 3 or sys.argv[1] not in FRAMEWORKS or not sys.argv[2].isdigit():
            raise SystemExit(USAGE)
        self.framework = sys.argv[1]
        self.n = int(sys.argv[2])
        self.figures: dict[str, Any] = {"framework": self.framework, "n": self.n}
        self._flow_started: float | None = None
        atexit.register(self._write)

    def run_flow(
        self, flow_fn: Callable[[int], Any], expected: Callable[[int], Any], *, tasks: bool = True
    ) -> None:
        """Call ``flow_fn(1)`` to warm up, then time ``flow_fn(n)``; check what both return.

        The warm-up takes what is paid once per process (opening the database, starting
        a server or a writer thread) out of the timed flow, which keeps the difference
        between two sizes from drowning in their noise. With ``BENCH_PROFILE_PATH`` set,
        the timed flow runs under cProfile and its statistics are written there. Unless
        ``tasks`` is false, the figures count a task run per call of a task (``n + 1``),
        which the harness looks for in the framework's database.
        """
        self._check(flow_fn(1), expected(1))
        profile_path = os.environ.get("BENCH_PROFILE_PATH")
        profiler = _start_profiler() if profile_path else None
        started = time.perf_counter()
        self._flow_started = started
        result = flow_fn(self.n)
        finished = time.perf_counter()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)
        self._check(result, expected(self.n))
        self.figures["flow_seconds"] = finished - started
        if tasks:
            self.figures["tasks"] = self.n + 1

    def run_single(self, flow_fn: Callable[[int], Any], expected: Callable[[int], Any]) -> None:
        """Call ``flow_fn(n)`` once, with nothing before it: a process's first flow."""
        started = time.perf_counter()
        self._flow_started = started
        result = flow_fn(self.n)
        self.figures["flow_seconds"] = time.perf_counter() - started
        self._check(result, expected(self.n))
        self.figures["tasks"] = self.n
        launched = os.environ.get("BENCH_LAUNCH_NS")
        if launched:
            self.figures["flow_done_since_launch_seconds"] = (time.time_ns() - int(launched)) / 1e9

    @staticmethod
    def _check(result: Any, expected: Any) -> None:
        if result != expected:
            raise SystemExit(f"the flow returned {result!r}, expected {expected!r}")

    def time_import(self) -> None:
        """Time ``import FRAMEWORK``, then ``from FRAMEWORK import flow, task``."""
        started = time.perf_counter()
        __import__(self.framework)
        imported = time.perf_counter()
        load_framework(self.framework)
        finished = time.perf_counter()
        self.figures["import_seconds"] = imported - started
        self.figures["import_flow_task_seconds"] = finished - started
        self.figures["modules"] = len(sys.modules)

    def _write(self) -> None:
        if self._flow_started is not None:
            self.figures["done_seconds"] = time.perf_counter() - self._flow_started
        import json
        import resource

        self.figures["maxrss_self_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.figures["maxrss_children_kib"] = children
        text = json.dumps(self.figures)
        path = os.environ.get("BENCH_RESULT_PATH")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        else:
            print(text)


def _start_profiler() -> Any:
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def sum_of_successors(n: int) -> int:
    """What ``sum(i + 1 for i in range(n))`` is."""
    return n * (n + 1) // 2


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value at or above ``fraction`` of them."""
    import math

    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def load_timing() -> Any:
    """cadenza's ``server/timing.py`` loaded from its file, without importing cadenza.

    It needs nothing but the standard library, so Prefect's environment can use it too.
    """
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "src" / "cadenza" / "server" / "timing.py"
    spec = importlib.util.spec_from_file_location("server_timing", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
