"""What the flow run and task run pages show of tracking: params, latest metrics, tags,
datasets, the experiment, and the run's files (``_tracking_section.html``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from cadenza.server.api.tracking_deps import get_artifact_store, get_tracking_store

FILES_SHOWN = 200


def tracking_panel(request: Request, run_id: str) -> dict[str, Any]:
    """What a run page shows of tracking: ``tracking`` (the run's info, data and
    datasets, or None), ``files`` (up to :data:`FILES_SHOWN`) and ``more_files``."""
    store = get_tracking_store(request)
    artifacts = get_artifact_store(request)
    run = store.get_run(run_id)
    files = artifacts.list(run_id, "", recursive=True)
    experiment = None
    if run is not None and run.info.experiment_id:
        experiment = store.get_experiment(run.info.experiment_id)
    return {
        "tracking": run,
        "experiment": experiment,
        "files": files[:FILES_SHOWN],
        "more_files": max(len(files) - FILES_SHOWN, 0),
    }
