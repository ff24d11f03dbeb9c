"""The registry's figures on cadenza: bench's registry workload, without MLflow.

``python -m tests.registry.time_registry [OPTIONS]`` runs ``bench/run.py --only registry
--skip-mlflow OPTIONS`` from a checkout: in a fresh CADENZA_HOME, ``log_model`` of an
XGBoost regressor inside a flow (requirements inferred, given, and with an input
example), ``register_model``, ``set_registered_model_alias``,
``load_model("models:/taxi-duration@champion")`` and ``predict`` on 1,000 rows, each
the median of several rounds (``bench/workloads/registry.py``); ``make bench
BENCH_ARGS="--only registry"`` compares them with MLflow.
"""

from __future__ import annotations

import sys

from tests.tracking.measure import bench

if __name__ == "__main__":
    sys.exit(bench("registry", sys.argv[1:]))
