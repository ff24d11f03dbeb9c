"""Start latency and throughput of workers, measured with real processes.

A standalone benchmark of cadenza alone (Prefect's process worker is not run beside it yet):

    python bench/workers.py                 # both figures, embedded store
    python bench/workers.py --server        # the same through a server
    python bench/workers.py --runs 100 --burst 200 --workers 4 --json out.json

* start latency: one idle worker (``cadenza worker start``) and ``--runs`` runs of a
  one-line flow scheduled ahead, ``--spacing`` seconds apart; for each, the time from its
  scheduled time to its Running state (as recorded by the run's own process); p50,
  p99 and max.
* throughput: ``--workers`` workers and ``--burst`` runs due at once; runs started (in
  state Running) per second, from the moment they were created to the last one's
  Running state.

Every measurement uses a fresh CADENZA_HOME in a temporary folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_CADENZA = [sys.executable, "-m", "cadenza.cli.main"]
FLOW = """
from cadenza import flow


@flow
def tick(i: int = 0) -> int:
    return i
"""


def _env(home: Path, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env["CADENZA_HOME"] = str(home)
    if api_url:
        env["CADENZA_API_URL"] = api_url
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def _setup(server: bool) -> Iterator[tuple[Path, dict[str, str], Any]]:
    """A fresh home with the flow file, its environment, and the deployment store (the
    database, or a server started for the measurement)."""
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as tmp:
        root = Path(tmp)
        (root / "flows.py").write_text(FLOW)
        server_proc = None
        api_url = None
        if server:
            port = _free_port()
            api_url = f"http://127.0.0.1:{port}"
            server_proc = subprocess.Popen(
                [*_CADENZA, "server", "start", "--port", str(port)],
                env=_env(root / "server-home", None),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        env = _env(root / "home", api_url)
        os.environ.update(env)
        for key in [k for k in os.environ if k.startswith("CADENZA_") and k not in env]:
            del os.environ[key]
        from cadenza.client import close_clients, get_deployment_store
        from cadenza.settings import reset_settings

        reset_settings()
        try:
            store = get_deployment_store()
            if server:
                _wait(lambda: _answers(store), 30, "the server")
            yield root, env, store
        finally:
            close_clients()
            if server_proc is not None:
                server_proc.terminate()
                server_proc.wait(timeout=30)


def _answers(store: Any) -> bool:
    try:
        store.list_work_pools()
        return True
    except Exception:
        return False


def _deploy(store: Any, root: Path) -> Any:
    from cadenza.utilities.entrypoints import load_flow

    flow = load_flow(f"{root / 'flows.py'}:tick")
    return flow.deploy("bench", work_pool_name="bench", path=root)


@contextmanager
def _workers(n: int, env: dict[str, str], root: Path) -> Iterator[None]:
    procs = []
    logs = []
    for i in range(n):
        log = root / f"worker-{i}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [*_CADENZA, "worker", "start", "--pool", "bench"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        for log in logs:
            _wait(lambda log=log: "started on work pool" in log.read_text(), 60, "the workers")
        time.sleep(1.0)  # let each worker start its process ahead of the first run
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def _running_time(store: Any, run_id: str) -> float | None:
    run = store.read_flow_run(run_id)
    if run is None or run.state is None or not run.state.is_final():
        return None
    for s in run.history or ():
        if s.name == "Running":
            return float(s.timestamp)
    return None


def start_latency(runs: int, spacing: float, server: bool) -> dict[str, Any]:
    """Seconds from each run's scheduled time to its Running state, on an idle worker."""
    from cadenza.deploy.runs import new_deployment_run

    with _setup(server) as (root, env, store):
        d = _deploy(store, root)
        with _workers(1, env, root):
            first = time.time() + 3.0
            planned = [
                new_deployment_run(d, first + i * spacing, parameters={"i": i}) for i in range(runs)
            ]
            created = store.create_scheduled_flow_runs(planned)
            due = {r.id: r.expected_start_time for r in created}
            timeout = 60.0 + runs * spacing * 2
            started = {
                run_id: _wait(
                    lambda run_id=run_id: _running_time(store, run_id), timeout, "the runs"
                )
                for run_id in due
            }
    late = sorted(started[i] - due[i] for i in due)
    return {
        "runs": runs,
        "spacing_s": spacing,
        "p50_s": statistics.median(late),
        "p99_s": late[min(len(late) - 1, round(0.99 * (len(late) - 1)))],
        "max_s": late[-1],
        "min_s": late[0],
    }


def throughput(burst: int, workers: int, server: bool) -> dict[str, Any]:
    """Runs started per second by ``workers`` workers given ``burst`` runs due at once."""
    from cadenza.deploy.runs import new_deployment_run

    with _setup(server) as (root, env, store):
        d = _deploy(store, root)
        with _workers(workers, env, root):
            now = time.time()
            created = store.create_scheduled_flow_runs(
                [new_deployment_run(d, now, parameters={"i": i}) for i in range(burst)]
            )
            begun = time.time()
            timeout = 120.0 + burst
            started = [
                _wait(lambda r=r: _running_time(store, r.id), timeout, "the runs") for r in created
            ]
            by_worker: dict[str, int] = {}
            for r in created:
                found = store.read_flow_run(r.id)
                key = found.worker_id if found is not None else None
                by_worker[str(key)] = by_worker.get(str(key), 0) + 1
    span = max(started) - begun
    return {
        "runs": burst,
        "workers": workers,
        "seconds": span,
        "runs_started_per_s": burst / span,
        "runs_per_worker": sorted(by_worker.values(), reverse=True),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100, help="scheduled runs for the latency")
    parser.add_argument("--spacing", type=float, default=0.7, help="seconds between them")
    parser.add_argument("--burst", type=int, default=200, help="runs due at once")
    parser.add_argument("--workers", type=int, default=4, help="workers for the throughput")
    parser.add_argument("--server", action="store_true", help="through a cadenza server")
    parser.add_argument("--only", choices=["latency", "throughput"])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    mode = "server" if args.server else "embedded"
    figures: dict[str, Any] = {"mode": mode}
    if args.only in (None, "latency"):
        figures["start_latency"] = lat = start_latency(args.runs, args.spacing, args.server)
        print(
            f"[{mode}] start latency over {lat['runs']} scheduled runs: "
            f"p50 {lat['p50_s'] * 1000:.0f} ms, p99 {lat['p99_s'] * 1000:.0f} ms, "
            f"max {lat['max_s'] * 1000:.0f} ms"
        )
    if args.only in (None, "throughput"):
        figures["throughput"] = tp = throughput(args.burst, args.workers, args.server)
        print(
            f"[{mode}] {tp['runs']} runs due at once on {tp['workers']} workers: "
            f"{tp['runs_started_per_s']:.1f} runs started per second "
            f"(all Running {tp['seconds']:.1f} s after they were created; "
            f"per worker {tp['runs_per_worker']})"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
