"""Tracking's figures on cadenza: bench's tracking workloads, without MLflow.

``python -m tests.tracking.measure [OPTIONS]`` runs ``bench/run.py --only
log_metric,log_batch,runs --skip-mlflow OPTIONS`` from a checkout: plain Python and
cadenza in fresh processes, each in an empty CADENZA_HOME (``--quick`` for small
sizes). The workloads are bench's (``bench/workloads/log_metric.py``, ``log_batch.py``,
``runs.py``, ``search_runs.py``; bench/README.md tells what each measures);
``make bench BENCH_ARGS="--only tracking"`` compares them with MLflow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def bench(workloads: str, options: list[str]) -> int:
    """Run bench's ``workloads`` (comma-separated) on plain Python and cadenza; the exit status."""
    return subprocess.call(
        [sys.executable, str(RUN), "--only", workloads, "--skip-mlflow", *options]
    )


if __name__ == "__main__":
    sys.exit(bench("log_metric,log_batch,runs", sys.argv[1:]))
