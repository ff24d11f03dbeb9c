"""Training XGBoost on the features, and scoring a model on a month of trips.

Both the tuning trials and the final model are fitted by :func:`fit_booster`:
``xgboost.train`` with ``reg:squarederror``, stopped when the RMSE on the validation
month has not improved for ``early_stopping_rounds`` rounds, and cut back to its best
round. (The trees are trained from ``DMatrix`` objects: with a one-hot matrix of about
12,000 columns this is a hundred times faster than the scikit-learn wrapper.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import cadenza
from cadenza import get_run_logger, task
from examples.taxi.features import FeatureSet
from examples.taxi.validate import MonthTrips

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline
    from xgboost import Booster

SEED = 42

# OpenMP threads that spin while they wait make XGBoost several times slower on a
# machine whose cores are busy with other work; waiting passively costs nothing when
# they are free. Read when XGBoost is first imported (here, inside the functions).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Fit(NamedTuple):
    """A booster cut back to its best round, and how it did on the validation month."""

    booster: Booster
    rmse: float
    trees: int
    rounds: int
    """How many rounds ran before early stopping."""
    curve: list[float]
    """The validation RMSE after each round that ran (the trees kept end at the best)."""


def fit_booster(
    params: dict[str, Any],
    features: FeatureSet,
    *,
    rounds: int,
    early_stopping_rounds: int,
    threads: int,
    seed: int = SEED,
) -> Fit:
    """Boost trees on the training month, stopping early on the validation month."""
    import xgboost as xgb

    train = xgb.DMatrix(features.X_train, label=features.y_train, nthread=threads)
    valid = xgb.DMatrix(features.X_valid, label=features.y_valid, nthread=threads)
    scores: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        {
            "objective": "reg:squarederror",
            "eval_metric": "rmse",
            "tree_method": "hist",
            "nthread": threads,
            "seed": seed,
            **params,
        },
        train,
        num_boost_round=rounds,
        evals=[(valid, "validation")],
        early_stopping_rounds=early_stopping_rounds,
        evals_result=scores,
        verbose_eval=False,
    )
    ran = booster.num_boosted_rounds()
    trees = booster.best_iteration + 1
    curve = [float(v) for v in scores["validation"]["rmse"]]
    return Fit(booster[:trees], float(booster.best_score), trees, ran, curve)


def log_curve(fit: Fit, key: str = "validation_rmse") -> None:
    """Record the validation RMSE of every boosting round as one metric, by step."""
    for step, value in enumerate(fit.curve):
        cadenza.log_metric(key, value, step=step)


class Predictor(Protocol):
    """Anything that predicts durations from a DataFrame of trips: a
    :class:`DurationModel`, or a model loaded back from the registry."""

    def predict(self, trips: pd.DataFrame) -> Any: ...


def rmse_on(model: Predictor, trips: MonthTrips) -> float:
    """The RMSE, in minutes, of ``model``'s predictions on a month of trips."""
    from sklearn.metrics import root_mean_squared_error

    return float(root_mean_squared_error(trips.trips["duration"], model.predict(trips.trips)))


@dataclass(frozen=True)
class DurationModel:
    """Predicts trip durations in minutes from a DataFrame of raw trips.

    ``model.predict(trips)`` needs the columns ``PULocationID``, ``DOLocationID`` and
    ``trip_distance``: the feature preparation is part of the model.
    """

    preprocessor: Pipeline
    booster: Booster
    params: dict[str, Any] = field(default_factory=dict)
    train_month: str = ""
    valid_month: str = ""

    def predict(self, trips: pd.DataFrame) -> np.ndarray:
        """Durations in minutes, one per trip."""
        import xgboost as xgb

        return self.booster.predict(xgb.DMatrix(self.preprocessor.transform(trips)))

    @property
    def trees(self) -> int:
        return int(self.booster.num_boosted_rounds())


@task(task_run_name="train-model")
def train_model(
    params: dict[str, Any],
    features: FeatureSet,
    rounds: int = 1000,
    early_stopping_rounds: int = 50,
    seed: int = SEED,
) -> DurationModel:
    """The final model: the feature preparation and the boosted trees, in one object."""
    fit = fit_booster(
        params,
        features,
        rounds=rounds,
        early_stopping_rounds=early_stopping_rounds,
        threads=os.cpu_count() or 1,
        seed=seed,
    )
    log_curve(fit)
    get_run_logger().info(
        "Kept %d trees (boosting stopped after %d rounds); RMSE %.3f on %s while training",
        fit.trees,
        fit.rounds,
        fit.rmse,
        features.valid_month,
    )
    return DurationModel(
        features.preprocessor, fit.booster, params, features.train_month, features.valid_month
    )


@task(task_run_name="evaluate-{trips.label}")
def evaluate(model: DurationModel, trips: MonthTrips) -> float:
    """The RMSE, in minutes, of the model's predictions on a month of trips."""
    rmse = rmse_on(model, trips)
    get_run_logger().info("RMSE on %s: %.3f minutes", trips.label, rmse)
    return rmse
