"""Fill a Prefect 3 database with the runs of a seeded cadenza store, for the query workloads.

    python prefect_seed.py CADENZA_DB PREFECT_DB

Runs in Prefect's own environment. Prefect's migrations create its schema in
PREFECT_DB (a new file); then the flows, flow runs (subflow runs linked to their slot
task runs, as Prefect links them), task runs, every state of each run and the log
lines of CADENZA_DB (read with sqlite3, nothing of cadenza imported) are inserted
through Prefect's own SQLAlchemy tables, whose column types convert ids, times and
JSON as its server does. Each run's current state is its last state row, as
Prefect's orchestration leaves it. Prints what it inserted as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

BATCH = 5_000
T = TypeVar("T")


def utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def history(row: sqlite3.Row) -> list[dict[str, Any]]:
    """A cadenza run's states, oldest first (a NULL history is Pending, Running, final)."""
    if row["history"] is not None:
        return json.loads(row["history"])
    states = [{"type": "PENDING", "name": "Pending", "timestamp": row["created"]}]
    if row["start_time"] is not None:
        states.append({"type": "RUNNING", "name": "Running", "timestamp": row["start_time"]})
    if row["end_time"] is not None and row["state_type"] not in ("PENDING", "RUNNING"):
        states.append(
            {"type": row["state_type"], "name": row["state_name"], "timestamp": row["end_time"]}
        )
    return states


def run_columns(row: sqlite3.Row, states: list[dict[str, Any]], state_id: str) -> dict[str, Any]:
    """The columns Prefect's flow_run and task_run tables share."""
    last = states[-1]
    start, end = row["start_time"], row["end_time"]
    return {
        "id": row["id"],
        "name": row["name"],
        "created": utc(row["created"]),
        "updated": utc(last["timestamp"]),
        "state_id": state_id,
        "state_type": last["type"],
        "state_name": last["name"],
        "state_timestamp": utc(last["timestamp"]),
        "run_count": row["run_count"],
        "expected_start_time": utc(row["created"]),
        "start_time": utc(start),
        "end_time": utc(end),
        "total_run_time": timedelta(seconds=end - start) if start and end else timedelta(0),
        "tags": json.loads(row["tags"]),
    }


def state_rows(run_key: str, run_id: str, states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per state; the last one's id is the run's ``state_id``."""
    return [
        {
            "id": str(uuid.uuid4()),
            run_key: run_id,
            "type": s["type"],
            "name": s["name"],
            "timestamp": utc(s["timestamp"]),
            "created": utc(s["timestamp"]),
            "updated": utc(s["timestamp"]),
            "message": s.get("message"),
        }
        for s in states
    ]


def batches(rows: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def create_schema(target: Path) -> None:
    """Prefect's schema in ``target``, made by its migrations as ``prefect server`` does."""
    os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{target}"
    from prefect.server.database import provide_database_interface

    asyncio.run(provide_database_interface().create_db())


def flow_run_columns(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "flow_id": row["flow_id"],
        "parameters": json.loads(row["parameters"]),
        "parent_task_run_id": row["parent_task_run_id"],
    }


def task_run_columns(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "flow_run_id": row["flow_run_id"],
        "task_key": row["task_key"],
        "dynamic_key": str(row["dynamic_key"]),
        "flow_run_run_count": 1,
    }


def copy_runs(
    conn: Any,
    cadenza: sqlite3.Connection,
    table: str,
    run_model: Any,
    state_model: Any,
    columns_of: Callable[[sqlite3.Row], dict[str, Any]],
) -> tuple[int, int]:
    """Copy cadenza's flow runs or task runs and their states; how many of each."""
    import sqlalchemy as sa

    run_key = "flow_run_id" if table == "flow_runs" else "task_run_id"
    runs = states = 0
    rows: Iterable[sqlite3.Row] = cadenza.execute(f"SELECT * FROM {table} ORDER BY id")
    for batch in batches(rows):
        new_runs, new_states = [], []
        for row in batch:
            past = history(row)
            run_states = state_rows(run_key, row["id"], past)
            new_runs.append({**run_columns(row, past, run_states[-1]["id"]), **columns_of(row)})
            new_states += run_states
        conn.execute(sa.insert(run_model.__table__), new_runs)
        conn.execute(sa.insert(state_model.__table__), new_states)
        runs += len(new_runs)
        states += len(new_states)
    return runs, states


def copy_all(source: Path, target: Path) -> dict[str, int]:
    import sqlalchemy as sa
    from prefect.server.database import orm_models as orm

    engine = sa.create_engine(f"sqlite:///{target}")
    counts = dict.fromkeys(("flows", "flow_runs", "task_runs", "states", "logs"), 0)
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as cadenza:
        cadenza.row_factory = sqlite3.Row
        with engine.begin() as conn:
            flows = [
                {"id": r["id"], "name": r["name"], "created": utc(r["created"])}
                for r in cadenza.execute("SELECT id, name, created FROM flows")
            ]
            conn.execute(sa.insert(orm.Flow.__table__), flows)
            counts["flows"] = len(flows)
            # This connection does not check foreign keys (SQLite's default): each run
            # names its current state, whose row is inserted right after the run's.
            counts["flow_runs"], states = copy_runs(
                conn, cadenza, "flow_runs", orm.FlowRun, orm.FlowRunState, flow_run_columns
            )
            counts["states"] += states
            counts["task_runs"], states = copy_runs(
                conn, cadenza, "task_runs", orm.TaskRun, orm.TaskRunState, task_run_columns
            )
            counts["states"] += states
            logs = cadenza.execute(
                "SELECT flow_run_id, task_run_id, level, name, message, timestamp FROM logs"
                " ORDER BY id"
            )
            for batch in batches(logs):
                rows = [
                    {
                        "id": str(uuid.uuid4()),
                        "flow_run_id": r["flow_run_id"],
                        "task_run_id": r["task_run_id"],
                        "level": r["level"],
                        "name": r["name"],
                        "message": r["message"],
                        "timestamp": utc(r["timestamp"]),
                        "created": utc(r["timestamp"]),
                        "updated": utc(r["timestamp"]),
                    }
                    for r in batch
                ]
                conn.execute(sa.insert(orm.Log.__table__), rows)
                counts["logs"] += len(rows)
    engine.dispose()
    return counts


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: python prefect_seed.py CADENZA_DB PREFECT_DB")
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    if target.exists():
        raise SystemExit(f"{target} exists already: give a new file")
    started = time.perf_counter()
    create_schema(target)
    migrated = time.perf_counter()
    counts = copy_all(source, target)
    done = time.perf_counter()
    print(
        json.dumps(
            {**counts, "migrate_seconds": migrated - started, "insert_seconds": done - migrated}
        )
    )


if __name__ == "__main__":
    main()
