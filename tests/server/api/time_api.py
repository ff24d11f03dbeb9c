"""Time the API's queries on a large store: a script to run by hand, not a test.

    python -m tests.server.api.time_api [DATABASE_URL] [--flow-runs N] [--task-runs N]

Without a URL, a store is seeded in a temporary folder (100,000 flow runs and
1,000,000 task runs by default, about a minute); with one, that store is used as it
is (seed it once with ``--seed-only`` to time it again and again). Each endpoint is
called against ``cadenza server start`` on 127.0.0.1 and the median of several calls
is printed (the time seen by the client, HTTP included), then the query plans of the
store's main queries.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench.seed import seed

from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter
from cadenza.store.run_queries import flow_run_ids, log_query
from cadenza.store.sql import SqlStore


def _median_ms(fn: Any, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class ServerProcess:
    """``cadenza server start`` in a process of its own, as in production (a server
    in the timing script's own process would share its interpreter lock)."""

    def __init__(self, url: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
        env["CADENZA_DATABASE_URL"] = url
        command = ["cadenza.cli.main", "server", "start", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *command],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def time_endpoints(store: SqlStore, repeat: int) -> None:
    server = ServerProcess(store.url)
    try:
        with httpx.Client(base_url=server.url + "/api", timeout=60) as client:

            def get(path: str, **params: Any) -> Any:
                response = client.get(path, params=params)
                response.raise_for_status()
                return response.json()

            newest = get("/flow_runs", limit=1)["items"][0]
            now = newest["created_epoch"]
            big_run = _biggest_run(store) or newest["id"]
            middle = get("/flow_runs", until=str(now - 45 * 86400), limit=1)["items"][0]["id"]
            tasks = get(f"/flow_runs/{big_run}/task_runs", limit=1000)["items"]
            cases: list[tuple[str, str, dict[str, Any]]] = [
                ("runs, newest 50", "/flow_runs", {}),
                ("runs, oldest 50", "/flow_runs", {"sort": "oldest"}),
                ("runs, 500", "/flow_runs", {"limit": 500}),
                ("runs, page after 50,000", "/flow_runs", {"cursor": middle}),
                ("runs of a flow", "/flow_runs", {"flow": "flow-03"}),
                ("runs FAILED", "/flow_runs", {"state": "FAILED"}),
                ("runs CRASHED,CANCELLED", "/flow_runs", {"state": "CRASHED,CANCELLED"}),
                ("runs FAILED or Cached", "/flow_runs", {"state": ["FAILED", "Cached"]}),
                ("runs of a flow, FAILED", "/flow_runs", {"flow": "flow-20", "state": "FAILED"}),
                ("runs tagged gpu", "/flow_runs", {"tag": "gpu"}),
                ("runs of a tag nobody has", "/flow_runs", {"tag": "nobody"}),
                ("runs since 1 day", "/flow_runs", {"since": str(now - 86400)}),
                (
                    "runs of one day 60 days ago",
                    "/flow_runs",
                    {"since": str(now - 61 * 86400), "until": str(now - 60 * 86400)},
                ),
                ("runs until 60 days ago", "/flow_runs", {"until": str(now - 60 * 86400)}),
                (
                    "runs since 60 days, oldest",
                    "/flow_runs",
                    {"since": str(now - 60 * 86400), "sort": "oldest"},
                ),
                ("runs top level", "/flow_runs", {"top_level": "true"}),
                ("count all", "/flow_runs/count", {}),
                ("count FAILED", "/flow_runs/count", {"state": "FAILED"}),
                ("count COMPLETED or Cached", "/flow_runs/count", {"state": "COMPLETED,Cached"}),
                ("count of a flow", "/flow_runs/count", {"flow": "flow-00"}),
                ("count tagged gpu", "/flow_runs/count", {"tag": "gpu"}),
                ("count since 1 day", "/flow_runs/count", {"since": str(now - 86400)}),
                ("stats, 24 h by hour", "/flow_runs/stats", {"until": str(now)}),
                (
                    "stats, 30 days by day",
                    "/flow_runs/stats",
                    {"since": str(now - 30 * 86400), "until": str(now), "bucket": "1d"},
                ),
                ("flows", "/flows", {}),
                ("run page: the run", f"/flow_runs/{big_run}", {}),
                ("run page: 200 task runs", f"/flow_runs/{big_run}/task_runs", {}),
                (
                    "run page: 1000 task runs after 10,000",
                    f"/flow_runs/{big_run}/task_runs",
                    {"limit": 1000, "cursor": tasks[-1]["id"]},
                ),
                ("run page: 500 log lines", f"/flow_runs/{big_run}/logs", {}),
                (
                    "run page: logs with subflows",
                    f"/flow_runs/{big_run}/logs",
                    {"include_subflows": "true"},
                ),
                ("run page: ERROR logs", f"/flow_runs/{big_run}/logs", {"level": "ERROR"}),
                ("run page: subflows", f"/flow_runs/{big_run}/subflows", {}),
                ("run page: artifacts", f"/flow_runs/{big_run}/artifacts", {}),
                ("a task run", f"/task_runs/{tasks[500]['id']}", {}),
                ("a task run's logs", f"/task_runs/{tasks[500]['id']}/logs", {}),
            ]
            print(f"{'endpoint':45s} {'median ms':>10s}  items")

            def fetch(path: str, params: dict[str, Any]) -> None:
                client.get(path, params=params).raise_for_status()

            for label, path, params in cases:
                body = get(path, **params)
                ms = _median_ms(lambda p=path, q=params: fetch(p, q), repeat)  # type: ignore[misc]
                size = len(body["items"]) if "items" in body else body.get("count", "")
                print(f"{label:45s} {ms:10.1f}  {size}")
    finally:
        server.stop()


def _biggest_run(store: SqlStore) -> str | None:
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT flow_run_id FROM task_runs GROUP BY flow_run_id ORDER BY count(*) DESC LIMIT 1"
        ).first()
    return row[0] if row else None


def print_plans(store: SqlStore) -> None:
    if not store.is_sqlite:
        return
    queries = {
        "FAILED, newest": flow_run_ids(
            FlowRunFilter(state_types=[StateType.FAILED]),
            limit=51,
            before_id=None,
            after_id=None,
            oldest_first=False,
        ),
        "FAILED or Cached": flow_run_ids(
            FlowRunFilter(state_types=[StateType.FAILED], state_names=["Cached"]),
            limit=51,
            before_id=None,
            after_id=None,
            oldest_first=False,
        ),
        "top level": flow_run_ids(
            FlowRunFilter(top_level_only=True),
            limit=51,
            before_id=None,
            after_id=None,
            oldest_first=False,
        ),
        "one day": flow_run_ids(
            FlowRunFilter(since=1.0, until=2.0),
            limit=51,
            before_id=None,
            after_id=None,
            oldest_first=False,
        ),
        "logs with subflows": log_query(
            ["a", "b"], task_run_id=None, after_id=5, min_level=0, limit=501
        ),
    }
    with store.engine.connect() as conn:
        for label, query in queries.items():
            sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
            print(f"\n{label}:")
            for row in plan:
                print("   ", row[3])
        print()
        for label, sql in {
            "task runs page": "SELECT * FROM task_runs WHERE flow_run_id = 'x' AND id > 'y'"
            " ORDER BY id LIMIT 201",
            "count by state, 1 day": "SELECT state_type, count(*) FROM flow_runs"
            " WHERE created >= 1 AND created < 2 GROUP BY state_type",
        }.items():
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
            print(f"{label}:")
            for row in plan:
                print("   ", row[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--flow-runs", type=int, default=100_000)
    parser.add_argument("--task-runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    folder = None
    url = args.url
    if url is None:
        folder = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(folder.name) / 'timing.db'}"
    store = SqlStore(url)
    try:
        if args.url is None or args.seed_only:
            info = seed(
                store,
                flow_runs=args.flow_runs,
                task_runs=args.task_runs,
                big_run_tasks=20_000,
                logs_per_run=3,
            )
            print(
                f"seeded {info.flow_runs} flow runs, {info.task_runs} task runs, "
                f"{info.logs} log lines in {info.seconds:.0f} s"
            )
            if args.seed_only:
                return
        time_endpoints(store, args.repeat)
        print_plans(store)
    finally:
        store.close()
        if folder is not None:
            folder.cleanup()


if __name__ == "__main__":
    main()
