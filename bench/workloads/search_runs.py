"""``search_runs`` over the runs ``runs.py`` created in this home: median of N searches.

    BENCH_RUNS=R python search_runs.py FRAMEWORK N

Two searches of the experiment ``many-runs`` (R runs and the warm-up's one), each made
once untimed, then N times timed, taking turns: ``metrics.rmse < 0.5`` (up to 1,000
runs, the default page of both), and the same ordered by ``metrics.m1`` ascending,
the first 100. cadenza: ``TrackingClient().search_runs``; MLflow:
``MlflowClient().search_runs`` (both return a list of runs with their params and
metrics). plain: SQL on the SQLite file, fetching the same params and metrics. The
number of runs each search returned is checked against what the filter must match.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from statistics import median
from typing import Any

from common import Measurement
from tracking_common import (
    EXPERIMENT,
    FIRST,
    MAX_RESULTS,
    ORDER_BY,
    ORDER_KEY,
    RMSE_FILTER,
    PlainStore,
    mlflow_module,
    runs_matching,
)

measurement = Measurement()
figures = measurement.figures
runs = int(os.environ["BENCH_RUNS"])
searches: dict[str, Callable[[], list[Any]]]

if measurement.framework in ("cadenza", "mlflow"):
    if measurement.framework == "cadenza":
        import cadenza

        client: Any = cadenza.TrackingClient()
    else:
        client = mlflow_module().MlflowClient()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        raise SystemExit(f"there is no experiment {EXPERIMENT!r}: run runs.py in this home first")
    ids = [experiment.experiment_id]
    searches = {
        "search": lambda: list(client.search_runs(ids, RMSE_FILTER, max_results=MAX_RESULTS)),
        "first": lambda: list(
            client.search_runs(ids, RMSE_FILTER, order_by=[ORDER_BY], max_results=FIRST)
        ),
    }
else:
    store = PlainStore()
    searches = {
        "search": lambda: store.search(MAX_RESULTS),
        "first": lambda: store.search(FIRST, ORDER_KEY),
    }

matching = runs_matching(runs)
expected = {"search": min(matching, MAX_RESULTS), "first": min(matching, FIRST)}
samples: dict[str, list[float]] = {name: [] for name in searches}
for i in range(measurement.n + 1):
    for name, search in searches.items():
        started = time.perf_counter()
        found = search()
        seconds = time.perf_counter() - started
        if len(found) != expected[name]:
            raise SystemExit(f"{name} found {len(found):,} runs, expected {expected[name]:,}")
        if i:
            samples[name].append(seconds)
for name, values in samples.items():
    figures[f"{name}_seconds"] = median(values)
    figures[f"{name}_samples"] = values
    figures[f"{name}_rows"] = expected[name]
figures["runs"] = runs + 1
