"""How many task runs a framework wrote to its SQLite database in its home."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

# framework -> (database file in its home, table of task runs)
TASK_RUN_TABLES = {
    "cadenza": ("cadenza.db", "task_runs"),
    "prefect": ("prefect.db", "task_run"),
}


def counts_task_runs(framework: str) -> bool:
    return framework in TASK_RUN_TABLES


def count_task_runs(framework: str, home: Path) -> int | None:
    """Rows in the task-run table of the framework's database (0 if it has none yet).

    None when the framework keeps no such database or it cannot be read.
    """
    if framework not in TASK_RUN_TABLES:
        return None
    filename, table = TASK_RUN_TABLES[framework]
    database = home / filename
    if not database.exists():
        return 0
    try:
        with closing(sqlite3.connect(database, timeout=30)) as connection:
            (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    except sqlite3.Error:
        return None
    return int(count)
