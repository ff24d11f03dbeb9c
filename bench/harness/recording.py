"""How many task runs or metric points a framework wrote to its SQLite database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

# framework -> (database file in its home, table of task runs)
TASK_RUN_TABLES = {
    "cadenza": ("cadenza.db", "task_runs"),
    "prefect": ("prefect.db", "task_run"),
}
# framework -> (database file in its home, table with a row per metric point); the
# same tables in a server's database
METRIC_POINT_TABLES = {
    "cadenza": ("cadenza.db", "metric_points"),
    "mlflow": ("mlflow.db", "metrics"),
    "plain": ("plain.db", "metrics"),
}


def counts_task_runs(framework: str) -> bool:
    return framework in TASK_RUN_TABLES


def count_rows(database: Path, table: str) -> int | None:
    """Rows of ``table`` in the SQLite file ``database``: 0 if there is no file yet, None if
    it cannot be read (or has no such table)."""
    if not database.exists():
        return 0
    try:
        with closing(sqlite3.connect(database, timeout=30)) as connection:
            (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    except sqlite3.Error:
        return None
    return int(count)


def count_task_runs(framework: str, home: Path) -> int | None:
    """Rows in the task-run table of the framework's database (0 if it has none yet).

    None when the framework keeps no such database or it cannot be read.
    """
    if framework not in TASK_RUN_TABLES:
        return None
    filename, table = TASK_RUN_TABLES[framework]
    return count_rows(home / filename, table)


def count_metric_points(framework: str, home: Path, database: Path | None = None) -> int | None:
    """Metric points in the framework's database in ``home``, or in ``database`` (a
    server's); None when it cannot be read."""
    filename, table = METRIC_POINT_TABLES[framework]
    return count_rows(database if database is not None else home / filename, table)
