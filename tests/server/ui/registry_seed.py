"""Seed the UI tests' home with registered models: run as a script over that home.

``python registry_seed.py ROOT`` runs a training flow whose task logs scikit-learn
models (one registered three times under ``taxi-duration``), moves an alias and a
stage, and writes the ids to ``ROOT/registry_ids.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

import cadenza
from cadenza import flow, task
from cadenza.registry.client import RegistryClient

X = pd.DataFrame({"trip_distance": np.arange(1.0, 21.0), "pickup_hour": np.arange(20) % 24})
Y = 3 * X.trip_distance + X.pickup_hour


@task
def fit(alpha: float) -> str:
    from cadenza.events import DatasetLogged, MetricLogged, ParamsLogged
    from cadenza.tracking.current import current_reporter, current_run_id

    run_id = current_run_id("seed")
    reporter = current_reporter()
    assert reporter is not None
    reporter.emit(ParamsLogged(run_id, {"model": "ridge"}))
    reporter.emit(MetricLogged(run_id, "rmse", 4.25 / alpha, time.time()))
    reporter.emit(
        DatasetLogged(
            run_id,
            "yellow-2024-01",
            "5d41402abc4b2a76",
            source="data/yellow_tripdata_2024-01.parquet",
            context="training",
            num_rows=len(X),
        )
    )
    info = cadenza.log_model(
        Ridge(alpha=alpha).fit(X, Y),
        name="model",
        input_example=X.head(3),
        registered_model_name="taxi-duration",
    )
    return info.run_id


@flow
def train_taxi(alpha: float = 1.0) -> str:
    return fit(alpha)


@flow
def train_unsafe() -> None:
    cadenza.log_model(
        Ridge().fit(X, Y),
        name="model",
        registered_model_name='<b>bold<b> & "co"',
    )


def main(root: Path) -> None:
    runs = [train_taxi(alpha, return_state=True) for alpha in (0.1, 1.0, 10.0)]
    train_unsafe()
    client = RegistryClient()
    client.update_model_version("taxi-duration", 2, description="<script>alert(1)</script>")
    client.set_registered_model_alias("taxi-duration", "champion", 1, user="ana")
    client.set_registered_model_alias("taxi-duration", "champion", 2, user="ana", comment="better")
    client.transition_model_version_stage("taxi-duration", 2, "Production", user="bo")
    versions = client.search_model_versions("name = 'taxi-duration'")
    ids = {
        "task_runs": [r.result() for r in runs],
        "flow_runs": {str(v.version): v.flow_run_id for v in versions},
    }
    (root / "registry_ids.json").write_text(json.dumps(ids))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
