"""Real flows that log params, metrics, files and datasets, for the tracking UI tests.

``python tracking_pipeline.py seed FOLDER`` runs them and writes the ids of their runs
to ``FOLDER/tracking_ids.json``. Nothing runs at import.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cadenza
from cadenza import flow, task
from cadenza.context import FlowRunContext, TaskRunContext

EVIL = "<script>alert(1)</script>"


@task
def trial(max_depth: int, learning_rate: float) -> str:
    cadenza.log_params({"max_depth": max_depth, "learning_rate": learning_rate, "model": EVIL})
    rmse = 7.0 - max_depth / 10 + learning_rate * 3
    for epoch in range(30):
        cadenza.log_metric("val_loss", rmse + 3.0 / (epoch + 1), step=epoch)
    cadenza.log_metrics({"rmse": rmse, "mae": rmse * 0.7})
    cadenza.set_tag("stage", "tuning")
    ctx = TaskRunContext.get()
    assert ctx is not None
    return ctx.task_run.id


@task
def report(best: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cadenza.log_text(f"best trial: {best}\n{EVIL}\n", "report/summary.txt")
    cadenza.log_dict({"best": best, "note": EVIL}, "report/best.json")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [3, 1, 2])
    cadenza.log_figure(fig, "report/curve.png")
    plt.close(fig)
    cadenza.log_text(EVIL, "report/page.html")


@flow
def tune_taxi(depths: list[int] | None = None) -> dict[str, object]:
    ctx = FlowRunContext.get()
    assert ctx is not None
    cadenza.log_param("n_trials", len(depths or []))
    cadenza.log_input(
        [{"fare": 10.5, "distance": 2.1}, {"fare": 7.0, "distance": 1.2}],
        name="taxi-2024-01",
        source="data/yellow_tripdata_2024-01.parquet",
        context="training",
    )
    trials = [trial(d, 0.1 * (i + 1)) for i, d in enumerate(depths or [])]
    report(trials[0])
    return {"flow": ctx.flow_run.id, "trials": trials}


def seed(folder: Path) -> None:
    ids = tune_taxi([5, 10, 20, 40])
    (folder / "tracking_ids.json").write_text(json.dumps(ids))


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        seed(Path(sys.argv[2]))
