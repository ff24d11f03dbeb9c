"""A flow of 10,000 tasks recorded through the embedded writer, on SQLite and PostgreSQL.

Each measure is a fresh process running one flow of N trivial sequential tasks with
``CADENZA_DATABASE_URL`` pointing at an empty database: a SQLite file, or a new database
on the PostgreSQL server given. It reports the flow call's wall time (the call returns
once the flow's final state is durable, after the writer's last batch), how long the
process took to exit (the writer flushes what is left at exit), and checks that every
task run is in the database, Completed. The median of ``--repeat`` processes is printed.

    .venv/bin/python bench/postgres_writer.py --postgres postgresql+psycopg://user@host/db

A server of one's own serves (the script creates and drops a database on it, so its user
needs CREATEDB); ``.ci/postgres`` prints the URL of a scratch server, and
``CADENZA_TEST_POSTGRES_DURABLE=1 .ci/postgres`` restarts it with PostgreSQL's default
durability (fsync and synchronous commits), which is what the figures of docs/store.md
were measured with.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

FLOW = """
import json, sys, time
from cadenza import flow, task

@task
def add_one(x: int) -> int:
    return x + 1

@flow
def ten_thousand(n: int) -> int:
    return sum(add_one(i) for i in range(n))

n = int(sys.argv[1])
start = time.perf_counter()
assert ten_thousand(n) == n * (n + 1) // 2
print(json.dumps({"flow_s": time.perf_counter() - start}))
"""


def measure(url: str, n: int, folder: Path) -> dict[str, float]:
    """One process running the flow against ``url``; the figures it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env["CADENZA_HOME"] = str(folder / "home")
    env["CADENZA_DATABASE_URL"] = url
    script = folder / "flow.py"
    script.write_text(FLOW)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), str(n)], env=env, capture_output=True, text=True
    )
    process_s = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the flow failed on {url}:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_s"] = process_s
    check(url, n)
    return figures


def check(url: str, n: int) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT state_type, count(*) FROM task_runs GROUP BY state_type")
            ).all()
    finally:
        engine.dispose()
    if [tuple(r) for r in found] != [("COMPLETED", n)]:
        raise SystemExit(f"expected {n} completed task runs in {url}, found {found}")


def postgres_database(server: str, name: str) -> tuple[str, sa.Engine]:
    """A new database ``name`` on ``server``; its URL and an engine to drop it with."""
    url = sa.engine.make_url(server.replace("postgresql://", "postgresql+psycopg://"))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, help="URL of a PostgreSQL server")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    for i in range(args.repeat):
        for backend in results:
            with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as tmp:
                folder = Path(tmp)
                if backend == "sqlite":
                    results[backend].append(
                        measure(f"sqlite:///{folder / 'cadenza.db'}", args.tasks, folder)
                    )
                    continue
                url, admin = postgres_database(args.postgres, f"cadenza_bench_{os.getpid()}_{i}")
                try:
                    results[backend].append(measure(url, args.tasks, folder))
                finally:
                    with admin.connect() as conn:
                        name = sa.engine.make_url(url).database
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.dispose()

    print(f"A flow of {args.tasks:,} sequential tasks, median of {args.repeat} processes:")
    print(f"{'database':<12}{'flow call':>12}{'per task':>12}{'process':>12}")
    for backend, runs in results.items():
        flow_s = statistics.median(r["flow_s"] for r in runs)
        process_s = statistics.median(r["process_s"] for r in runs)
        per_task_us = flow_s / args.tasks * 1e6
        print(f"{backend:<12}{flow_s:>10.2f} s{per_task_us:>9.0f} µs{process_s:>10.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
