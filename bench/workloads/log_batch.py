"""N metric points logged in one call inside a run, timed until they are durable.

    python log_batch.py FRAMEWORK N

cadenza: a ``@flow`` runs, then ``TrackingClient().log_batch(run_id, metrics=[...])``
records the points on its flow run (the client writes to the store before it returns;
inside the flow, the embedded writer may not have recorded the flow run yet). MLflow:
``MlflowClient().log_batch(run_id, metrics=[...])`` inside ``mlflow.start_run()``, on
``mlflow.db`` in the home (it writes 1,000 points at a time). plain: one
``executemany``. The list of points is built inside the timed part, as a training
script builds it. A batch of one point warms up first; the clock stops at the end of
the exit handlers.
"""

from __future__ import annotations

import time

from common import Measurement
from tracking_common import PlainStore, loss, loss_points, mlflow_module

measurement = Measurement()
calls: list[float] = []

if measurement.framework == "cadenza":
    import cadenza
    from cadenza.tracking.entities import Metric

    client = cadenza.TrackingClient()

    @cadenza.flow
    def training() -> str:
        return cadenza.get_run_context().flow_run.id

    def log_points(n: int) -> int:
        run_id = training()
        now = time.time()
        points = [Metric("loss", loss(i), now, i) for i in range(n)]
        started = time.perf_counter()
        client.log_batch(run_id, metrics=points)
        calls.append(time.perf_counter() - started)
        return n

elif measurement.framework == "mlflow":
    mlflow = mlflow_module()
    from mlflow.entities import Metric as MlflowMetric

    client = mlflow.MlflowClient()

    def log_points(n: int) -> int:
        with mlflow.start_run() as run:
            now = int(time.time() * 1000)
            points = [MlflowMetric("loss", loss(i), now, i) for i in range(n)]
            started = time.perf_counter()
            client.log_batch(run.info.run_id, metrics=points)
            calls.append(time.perf_counter() - started)
        return n

else:
    store = PlainStore()

    def log_points(n: int) -> int:
        points = loss_points(n)
        started = time.perf_counter()
        store.write(points)
        calls.append(time.perf_counter() - started)
        return n


measurement.run_flow(log_points, expected=lambda n: n, tasks=False)
measurement.figures["points"] = measurement.n + 1
measurement.figures["calls_seconds"] = calls[-1]
