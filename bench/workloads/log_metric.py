"""N single ``log_metric`` calls inside a run, timed until every point is durable.

    python log_metric.py FRAMEWORK N

cadenza: a ``@flow`` calling ``cadenza.log_metric`` N times; reporting to the server at
CADENZA_API_URL when the harness sets it. MLflow: ``mlflow.log_metric`` N times inside
``mlflow.start_run()``, on ``mlflow.db`` in the home or the server at
MLFLOW_TRACKING_URI. plain: the same points appended to a list, then written to a
SQLite file with ``executemany``. A run of one point warms up first; the timed run's
clock stops at the end of the process's exit handlers, after anything deferred. The
harness counts the points in the database afterwards.
"""

from __future__ import annotations

import time

from common import Measurement
from tracking_common import PlainStore, loss, loss_points, mlflow_module

measurement = Measurement()
calls: list[float] = []

if measurement.framework == "cadenza":
    import cadenza

    @cadenza.flow
    def log_points(n: int) -> int:
        started = time.perf_counter()
        for i in range(n):
            cadenza.log_metric("loss", loss(i), step=i)
        calls.append(time.perf_counter() - started)
        return n

elif measurement.framework == "mlflow":
    mlflow = mlflow_module()

    def log_points(n: int) -> int:
        with mlflow.start_run():
            started = time.perf_counter()
            for i in range(n):
                mlflow.log_metric("loss", loss(i), step=i)
            calls.append(time.perf_counter() - started)
        return n

else:
    store = PlainStore()

    def log_points(n: int) -> int:
        started = time.perf_counter()
        points = loss_points(n)
        calls.append(time.perf_counter() - started)
        store.write(points)
        return n


measurement.run_flow(log_points, expected=lambda n: n, tasks=False)
measurement.figures["points"] = measurement.n + 1
measurement.figures["calls_seconds"] = calls[-1]
