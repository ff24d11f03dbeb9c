"""What the tracking workloads share: MLflow's set-up, plain Python's SQLite file, the
values every framework logs.

MLflow records to the tracking URI in ``MLFLOW_TRACKING_URI`` when the harness sets it
(its server), else to ``mlflow.db`` in the working folder (the process's home), as
cadenza records to ``cadenza.db`` in its home. Plain Python writes the same points to
``plain.db`` there with sqlite3.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from typing import Any

PLAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL NOT NULL,
    timestamp REAL NOT NULL, step INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS params (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_metrics_run_id ON metrics (run_id);
CREATE INDEX IF NOT EXISTS ix_metrics_key_value ON metrics (key, value);
CREATE INDEX IF NOT EXISTS ix_params_run_id ON params (run_id);
"""
EXPERIMENT = "many-runs"
RMSE_FILTER = "metrics.rmse < 0.5"
ORDER_KEY = "m1"
ORDER_BY = f"metrics.{ORDER_KEY} ASC"
FIRST = 100
MAX_RESULTS = 1_000
RUN_PARAMS = 5
RUN_METRICS = 5


def mlflow_module() -> Any:
    """``mlflow``, recording to the harness's server or to ``mlflow.db`` in the working folder."""
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    return mlflow


def loss(step: int) -> float:
    """The value of the metric ``loss`` at ``step``."""
    return 1.0 / (step + 1)


class PlainStore:
    """Plain Python's floor: metric points written to ``plain.db`` with ``executemany``.

    The file is opened as cadenza opens its own (WAL, synchronous=NORMAL), once per
    process: the warm-up pays for it, as it pays for the frameworks' databases.
    """

    def __init__(self) -> None:
        self.db = sqlite3.connect("plain.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(PLAIN_SCHEMA)

    def write(self, points: list[tuple[str, float, float, int]]) -> None:
        """One transaction of ``points`` (key, value, timestamp, step) on a new run."""
        run_id = str(uuid.uuid4())
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", [(run_id, *point) for point in points]
        )
        self.db.execute("COMMIT")

    def write_runs(self, runs: list[tuple[dict[str, str], dict[str, float]]]) -> None:
        """One transaction of the params and metrics of ``runs``, each a new run."""
        now = time.time()
        params, metrics = [], []
        for run_params_, run_metrics_ in runs:
            run_id = str(uuid.uuid4())
            params += [(run_id, key, value) for key, value in run_params_.items()]
            metrics += [(run_id, key, value, now, 0) for key, value in run_metrics_.items()]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO params VALUES (?, ?, ?)", params)
        self.db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", metrics)
        self.db.execute("COMMIT")

    def search(self, limit: int, order_by: str | None = None) -> list[dict[str, Any]]:
        """The runs whose rmse is below 0.5 with their params and metrics, at most ``limit``,
        ordered by the metric ``order_by`` (ascending) when given: what ``search_runs`` answers."""
        if order_by is None:
            ids = self.db.execute(
                "SELECT run_id FROM metrics WHERE key = 'rmse' AND value < 0.5 LIMIT ?", (limit,)
            ).fetchall()
        else:
            ids = self.db.execute(
                "SELECT run_id FROM metrics WHERE key = ? AND run_id IN"
                " (SELECT run_id FROM metrics WHERE key = 'rmse' AND value < 0.5)"
                " ORDER BY value LIMIT ?",
                (order_by, limit),
            ).fetchall()
        runs: dict[str, dict[str, Any]] = {
            run_id: {"params": {}, "metrics": {}} for (run_id,) in ids
        }
        marks = ",".join("?" * len(runs))
        for run_id, key, value in self.db.execute(
            f"SELECT run_id, key, value FROM params WHERE run_id IN ({marks})", list(runs)
        ):
            runs[run_id]["params"][key] = value
        for run_id, key, value in self.db.execute(
            f"SELECT run_id, key, value FROM metrics WHERE run_id IN ({marks})", list(runs)
        ):
            runs[run_id]["metrics"][key] = value
        return list(runs.values())


def loss_points(n: int) -> list[tuple[str, float, float, int]]:
    """``n`` points of ``loss`` as plain Python keeps them, built one append at a time."""
    points = []
    for i in range(n):
        points.append(("loss", loss(i), time.time(), i))
    return points


def run_params(i: int) -> dict[str, str]:
    """The 5 params of the ``i``-th run."""
    return {f"p{k}": str((i * (k + 3)) % 17) for k in range(RUN_PARAMS)}


def rmse(i: int) -> float:
    """The ``rmse`` of the ``i``-th run: spread over [0, 1), below 0.5 for about half."""
    return ((i * 7919) % 1000) / 1000


def run_metrics(i: int) -> dict[str, float]:
    """The 5 metrics of the ``i``-th run: ``rmse`` and four others."""
    others = {f"m{k}": ((i * 31 + k * 97) % 1000) / 10 for k in range(1, RUN_METRICS)}
    return {"rmse": rmse(i), **others}


def runs_matching(n: int) -> int:
    """How many of the runs a workload of ``n`` creates (with its warm-up's one, run 0)
    ``RMSE_FILTER`` matches."""
    return sum(rmse(i) < 0.5 for i in range(n)) + (rmse(0) < 0.5)
