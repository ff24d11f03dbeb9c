"""Workloads that time tracking, as standalone functions (to move into bench/).

Run ``python -m tests.tracking.measure`` for the figures: each workload runs in a
fresh CADENZA_HOME.

* :func:`log_metrics_in_flow`: n ``log_metric`` calls inside a flow, timed from the
  first call to the end of the flow call (when every point is durable).
* :func:`log_metrics_against_server`: the same with the process reporting to a
  ``cadenza`` server in another process (CADENZA_API_URL), timed to the end of the
  flow call (every point delivered and recorded by the server).
* :func:`search_runs_timing`: ``search_runs`` over n runs with a metric filter and an
  order by a metric.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def log_metrics_in_flow(n: int = 10_000) -> float:
    """Seconds from the first of ``n`` ``log_metric`` calls in a flow to the flow's end."""
    import cadenza

    timing: dict[str, float] = {}

    @cadenza.flow
    def log_many() -> None:
        timing["start"] = time.perf_counter()
        for i in range(n):
            cadenza.log_metric("loss", 1.0 / (i + 1), step=i)

    log_many()
    return time.perf_counter() - timing["start"]


def log_metric_calls_only(n: int = 10_000) -> float:
    """Seconds spent in ``n`` ``log_metric`` calls alone (the caller's cost)."""
    import cadenza

    timing: dict[str, float] = {}

    @cadenza.flow
    def log_many() -> None:
        start = time.perf_counter()
        for i in range(n):
            cadenza.log_metric("loss", 1.0 / (i + 1), step=i)
        timing["calls"] = time.perf_counter() - start

    log_many()
    return timing["calls"]


def search_runs_timing(n_runs: int = 10_000, repeat: int = 5) -> dict[str, float]:
    """Create ``n_runs`` runs of one experiment (5 params, 5 metrics each) in the
    store of the settings; returns seconds to record them and the median seconds of
    searches with a metric filter and order."""
    from cadenza.events import FlowRunCreated, FlowRunStateChanged, MetricLogged, ParamsLogged
    from cadenza.runs import FlowRun
    from cadenza.settings import get_settings
    from cadenza.states import Completed, Pending, Running
    from cadenza.store.sql import SqlStore
    from cadenza.utilities.ids import uuid7

    store = SqlStore(get_settings().resolved_database_url)
    now = time.time()
    start = time.perf_counter()
    batch: list = []
    for i in range(n_runs):
        run = FlowRun(uuid7(), f"run-{i}", "search-bench", created=now + i)
        batch += [
            FlowRunCreated(run, Pending(timestamp=now + i)),
            FlowRunStateChanged(run.id, Running(timestamp=now + i + 0.1)),
            FlowRunStateChanged(run.id, Completed(timestamp=now + i + 0.2)),
            ParamsLogged(run.id, {f"p{k}": str((i * (k + 1)) % 17) for k in range(5)}),
            *(
                MetricLogged(run.id, f"m{k}", ((i * 7919 + k) % 1000) / 100, now, 0)
                for k in range(5)
            ),
        ]
        if len(batch) >= 10_000:
            store.apply(batch)
            batch = []
    store.apply(batch)
    recorded = time.perf_counter() - start
    experiment = store.get_experiment_by_name("search-bench")
    assert experiment is not None
    out = {"record_runs": recorded}
    cases = {
        "filter_metric_order_metric_top100": ("metrics.m0 < 6", ["metrics.m1 ASC"], 100),
        "filter_metric_and_param_top100": (
            "metrics.m0 < 6 and params.p1 = '4'",
            ["metrics.m0 DESC"],
            100,
        ),
        "filter_metric_all_matches": ("metrics.m0 < 6", ["metrics.m1 ASC"], 10_000),
    }
    for name, (flt, order, size) in cases.items():
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            found = store.search_runs([experiment.experiment_id], flt, order, max_results=size)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
        out[name + "_rows"] = len(found)
    store.close()
    return out


_SERVE = """
import sys
import uvicorn
from cadenza.server.app import create_app
app = create_app(database_url=sys.argv[1], services=[], ui=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def log_metrics_against_server(n: int = 10_000) -> float:
    """:func:`log_metrics_in_flow` in a child process reporting to a server process."""
    import socket

    import httpx

    with tempfile.TemporaryDirectory() as root:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVE, f"sqlite:///{root}/server.db", str(port)],
            env={**env, "CADENZA_HOME": f"{root}/server-home"},
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            code = (
                "from tests.tracking.measure import log_metrics_in_flow;"
                f"print(log_metrics_in_flow({n}))"
            )
            done = subprocess.run(
                [sys.executable, "-c", code],
                env={
                    **env,
                    "CADENZA_HOME": f"{root}/client-home",
                    "CADENZA_API_URL": f"http://127.0.0.1:{port}",
                    "PYTHONPATH": str(Path(__file__).parents[2]),
                },
                capture_output=True,
                text=True,
                check=True,
            )
            # The flow call returns once the server acknowledged every point, which it
            # does after recording them.
            return float(done.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(10)


def _in_fresh_home(fn: str, *args: int) -> str:
    with tempfile.TemporaryDirectory() as home:
        code = f"from tests.tracking.measure import {fn}; print({fn}(*{args!r}))"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "CADENZA_HOME": home, "PYTHONPATH": str(Path(__file__).parents[2])},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]


def main() -> None:
    for _ in range(3):
        print(
            "log_metric x10,000 in a flow, to durable:",
            _in_fresh_home("log_metrics_in_flow", 10_000),
            "s",
        )
        print(
            "log_metric x10,000, the calls alone:",
            _in_fresh_home("log_metric_calls_only", 10_000),
            "s",
        )
        print("against a server, to durable:", log_metrics_against_server(10_000), "s")
    print("search over 10,000 runs:", _in_fresh_home("search_runs_timing", 10_000))


if __name__ == "__main__":
    main()
