"""The hyperparameter search: optuna's TPE sampler, each trial a task run.

Trials are asked from the study in batches of ``parallel`` and submitted to the flow's
task runner, so that a batch trains at once in threads (XGBoost releases the GIL);
their RMSEs are told back to the study in the order they were asked, which keeps the
search deterministic for a given seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cadenza
from cadenza import get_run_logger, task
from examples.taxi.features import FeatureSet
from examples.taxi.training import SEED, fit_booster, log_curve

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

TRIAL_ROUNDS = 200
TRIAL_EARLY_STOPPING = 20


def search_space() -> dict[str, BaseDistribution]:
    """What the trials explore: depth, learning rate and regularization of the trees."""
    from optuna.distributions import FloatDistribution, IntDistribution

    return {
        "max_depth": IntDistribution(4, 8),
        "learning_rate": FloatDistribution(0.05, 0.5, log=True),
        "min_child_weight": FloatDistribution(0.5, 20.0, log=True),
        "reg_alpha": FloatDistribution(1e-3, 1.0, log=True),
        "reg_lambda": FloatDistribution(1e-3, 10.0, log=True),
    }


@dataclass(frozen=True)
class TrialResult:
    """One trial: its parameters and how well they did on the validation month."""

    number: int
    params: dict[str, Any]
    rmse: float
    trees: int


@task(task_run_name="trial-{number}")
def train_trial(
    number: int, params: dict[str, Any], features: FeatureSet, threads: int = 1
) -> TrialResult:
    """Train with one set of parameters; its score is the validation RMSE.

    The trial's run records the parameters (``log_params``), the RMSE and the trees
    kept (``log_metric``), and the validation RMSE of every round as the metric
    ``validation_rmse``, by step: the trials are the runs of the flow's experiment.
    """
    cadenza.log_params(params)
    fit = fit_booster(
        params,
        features,
        rounds=TRIAL_ROUNDS,
        early_stopping_rounds=TRIAL_EARLY_STOPPING,
        threads=threads,
    )
    log_curve(fit)
    cadenza.log_metrics({"rmse": fit.rmse, "trees": fit.trees})
    result = TrialResult(number, params, fit.rmse, fit.trees)
    shown = ", ".join(f"{k}={v:.3g}" for k, v in params.items())
    get_run_logger().info(
        "Trial %d: RMSE %.3f with %d trees (%s)", number, result.rmse, result.trees, shown
    )
    return result


def tune(
    features: FeatureSet, trials: int, parallel: int = 2, seed: int = SEED
) -> list[TrialResult]:
    """Run ``trials`` trials, ``parallel`` at a time; returns them in trial order."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    space = search_space()
    threads = max(1, (os.cpu_count() or 1) // parallel)
    results: list[TrialResult] = []
    while len(results) < trials:
        batch = [study.ask(space) for _ in range(min(parallel, trials - len(results)))]
        futures = [train_trial.submit(t.number, t.params, features, threads) for t in batch]
        for trial, future in zip(batch, futures, strict=True):
            result = future.result()
            study.tell(trial, result.rmse)
            results.append(result)
    best = min(results, key=lambda r: r.rmse)
    get_run_logger().info("Best of %d trials: trial %d, RMSE %.3f", trials, best.number, best.rmse)
    return results
