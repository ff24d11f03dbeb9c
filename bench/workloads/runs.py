"""N runs, each logging 5 params and 5 metrics, timed until they are durable.

    python runs.py FRAMEWORK N

cadenza: a ``@flow`` named ``many-runs`` calling a ``@task`` N times, each task run
logging ``log_params`` and ``log_metrics`` (a task run that logs is a run of the
flow's experiment). MLflow: N ``mlflow.start_run()`` blocks in the experiment
``many-runs``, each with ``log_params`` and ``log_metrics``, on ``mlflow.db`` in the
home. plain: the same params and metrics written to a SQLite file with
``executemany``, one transaction. One run warms up first; the clock stops at the end
of the exit handlers. ``search_runs.py`` searches them afterwards, in the same home.
"""

from __future__ import annotations

from common import Measurement
from tracking_common import (
    EXPERIMENT,
    RUN_METRICS,
    PlainStore,
    mlflow_module,
    run_metrics,
    run_params,
)

measurement = Measurement()

if measurement.framework == "cadenza":
    import cadenza

    @cadenza.task
    def trial(i: int) -> int:
        cadenza.log_params(run_params(i))
        cadenza.log_metrics(run_metrics(i))
        return i

    @cadenza.flow(name=EXPERIMENT)
    def create_runs(n: int) -> int:
        return sum(trial(i) for i in range(n))

elif measurement.framework == "mlflow":
    mlflow = mlflow_module()
    mlflow.set_experiment(EXPERIMENT)

    def create_runs(n: int) -> int:
        total = 0
        for i in range(n):
            with mlflow.start_run():
                mlflow.log_params(run_params(i))
                mlflow.log_metrics(run_metrics(i))
            total += i
        return total

else:
    store = PlainStore()

    def create_runs(n: int) -> int:
        store.write_runs([(run_params(i), run_metrics(i)) for i in range(n)])
        return n * (n - 1) // 2


measurement.run_flow(create_runs, expected=lambda n: n * (n - 1) // 2, tasks=False)
measurement.figures["runs"] = measurement.n + 1
measurement.figures["points"] = RUN_METRICS * (measurement.n + 1)
