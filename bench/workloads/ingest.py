"""Flows of N trivial tasks reporting to a server: what the server takes in, end to end.

    BENCH_FLOWS=F python ingest.py FRAMEWORK N

cadenza reports to the server at CADENZA_API_URL and Prefect to PREFECT_API_URL, both
set by the harness (each server runs in a process of its own). After a one-task
warm-up flow (the first contact with the server, of another task), the process runs
F flows of N sequential trivial tasks (``add_one``) and writes the times (seconds since the epoch) at which the
first of them started and the last one returned; the harness counts what the server's
database holds. plain: no server and no framework: the same F x N task-run rows
inserted straight into a SQLite file with ``executemany``, a transaction per flow.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid

from common import Measurement, load_framework, sum_of_successors

PLAIN_SCHEMA = """
CREATE TABLE task_runs (
    id TEXT PRIMARY KEY, flow_run_id TEXT, name TEXT NOT NULL, task_key TEXT NOT NULL,
    dynamic_key INTEGER NOT NULL, created REAL NOT NULL, state_type TEXT, state_name TEXT,
    start_time REAL, end_time REAL
);
CREATE INDEX ix_task_runs_flow_run_id_id ON task_runs (flow_run_id, id);
"""

measurement = Measurement()
flows = int(os.environ.get("BENCH_FLOWS", "1"))
flow, task = load_framework(measurement.framework)


@task
def add_one(x: int) -> int:
    return x + 1


@task
def warm_up() -> int:
    return 1


@flow
def first_contact() -> int:
    """The warm-up flow: its task run is not one the harness counts (those of add_one)."""
    return warm_up()


@flow
def many_tasks(n: int) -> int:
    total = 0
    for i in range(n):
        total += add_one(i)
    return total


def plain_inserts(n: int) -> None:
    """F transactions of N task-run rows each, in a SQLite file as cadenza keeps it."""
    db = sqlite3.connect("plain.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(PLAIN_SCHEMA)
    for _ in range(flows):
        run_id = str(uuid.uuid4())
        now = time.time()
        rows = [
            (str(uuid.uuid4()), run_id, f"add_one-{i}", "ingest.py:add_one", i, now)
            for i in range(n)
        ]
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO task_runs VALUES (?, ?, ?, ?, ?, ?, 'COMPLETED', 'Completed', ?, ?)",
            [(*row, now, now) for row in rows],
        )
        db.execute("COMMIT")
    db.close()


n = measurement.n
if measurement.framework == "plain":
    started = time.time()
    plain_inserts(n)
    returned = time.time()
else:
    if first_contact() != 1:
        raise SystemExit("the warm-up flow returned a wrong result")
    started = time.time()
    for _ in range(flows):
        if many_tasks(n) != sum_of_successors(n):
            raise SystemExit("a flow returned a wrong result")
    returned = time.time()
measurement.figures["tasks"] = flows * n
measurement.figures["flows"] = flows
measurement.figures["started_epoch"] = started
measurement.figures["returned_epoch"] = returned
