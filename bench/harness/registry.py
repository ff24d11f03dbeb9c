"""The figures of the registry workload: logging, registering, aliasing, loading and
predicting with one XGBoost model; cadenza against MLflow (Prefect has no model registry).

Each step is timed inside the process, the median of the plan's rounds; across
processes, the median of those. Every prediction was checked against the trained
model's own: a process that predicted other values failed.
"""

from __future__ import annotations

from harness.measures import median_of
from harness.plan import TrackingPlan
from harness.rows import Row
from harness.session import Session

NO_REGISTRY = {"prefect": "no model registry"}
# step -> (label, plain Python's note; no note: plain Python has no such step)
STEPS = {
    "log_model": ("log_model of an XGBoost model, requirements inferred", "save_model"),
    "log_model_given": ("log_model, pip requirements given", "save_model"),
    "log_model_example": (
        "log_model, requirements given and an input example (a signature)",
        "save_model",
    ),
    "register_model": ("register_model (the next version)", None),
    "set_alias": ("set_registered_model_alias", None),
    "load_model": ('load_model("models:/taxi-duration@champion")', "load_model of the file"),
    "predict": ("predict on 1,000 rows with the loaded model", "the same, loaded from the file"),
}
PLAIN_STEPS = {"log_model", "load_model", "predict"}


def registry(session: Session) -> list[Row]:
    """One row per step, in milliseconds."""
    values: dict[str, dict[str, float | None]] = {
        step: dict.fromkeys(NO_REGISTRY) for step in STEPS
    }
    notes: dict[str, dict[str, str]] = {step: dict(NO_REGISTRY) for step in STEPS}
    rounds = session.plan.tracking.rounds
    for name in session.names_for("mlflow"):
        runs = session.repeated("registry", name, rounds, session.plan.reps_for(name))
        for step, (_, plain_note) in STEPS.items():
            if name == "plain" and step not in PLAIN_STEPS:
                values[step][name] = None
                notes[step][name] = "no registry"
                continue
            seconds = median_of(runs, lambda run, key=step: run.figures.get(f"{key}_seconds"))
            values[step][name] = None if seconds is None else seconds * 1000
            if name == "plain" and plain_note:
                notes[step][name] = plain_note
    return [
        Row(
            f"registry_{step}_ms",
            f"{label} (median of {rounds})",
            "ms",
            values[step],
            notes[step],
            competitor="mlflow",
        )
        for step, (label, _) in STEPS.items()
    ]


def notes(plan: TrackingPlan) -> list[str]:
    """How the registry figures were measured, for RESULTS.md."""
    return [
        "Registry: an XGBRegressor of 50 trees on 8 columns of taxi-like trips (the trip's "
        "duration from its distance, places, hour, weekday...), trained in the process with "
        "a fixed seed; then one untimed round and "
        f"{plan.rounds} timed, each timing every step on its own: three log_model calls in "
        "a run (requirements inferred; requirements given; requirements given and an input "
        "example of 5 rows, whose signature costs a prediction), register_model of the "
        "first as the next version of taxi-duration, the alias champion set on it, "
        "load_model of models:/taxi-duration@champion, predict on 1,000 new rows (checked "
        "against the trained model's predictions). cadenza: `cadenza.log_model` in a "
        "`@flow`, `cadenza.register_model`, `TrackingClient().set_registered_model_alias`, "
        "`cadenza.load_model`; MLflow: `mlflow.xgboost.log_model` in `start_run()`, "
        "`mlflow.register_model`, `MlflowClient().set_registered_model_alias`, "
        "`mlflow.pyfunc.load_model`, on mlflow.db and mlruns/ in the home. MLflow infers "
        "requirements in a subprocess that imports the model; cadenza reads the installed "
        "versions. Plain Python: XGBoost's save_model and load_model of a file. The same "
        "numpy, pandas, scikit-learn and XGBoost versions are installed next to MLflow as "
        "next to cadenza; a model loaded from a file predicts with all cores, which on a "
        "busy machine is slower than the trained one's single thread.",
    ]
