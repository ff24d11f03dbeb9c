"""The trained model in the registry: logged, registered, and promoted when it is better.

    log-model ─▶ register-taxi-duration ─▶ promote-taxi-duration-vN

:func:`log_duration_model` saves the :class:`DurationModel` in the python-function
flavor (it has ``predict(trips)``), with a few raw trips as its input example;
:func:`register` makes it the next version of ``taxi-duration``; :func:`promote` scores
the current ``champion`` on the same validation month and moves the alias to the new
version only if the new version's RMSE is lower. A version that does not win becomes
the ``challenger``. The first version is champion at once.

The model's code (the ``DurationModel`` class and the feature preparation) is saved
with it, so ``cadenza.load_model("models:/taxi-duration@champion")`` works in any
Python that has cadenza, XGBoost and scikit-learn, without this repository.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cadenza
from cadenza import get_run_logger, task
from examples.taxi.training import DurationModel, rmse_on
from examples.taxi.validate import MonthTrips

if TYPE_CHECKING:
    import pandas as pd

MODEL_NAME = "taxi-duration"
"""The registered model's name (the flow's ``model_name``)."""
CHAMPION = "champion"
"""The alias of the version to serve: the best on the validation month it was compared on."""
CHALLENGER = "challenger"
"""The alias of the latest version that did not beat the champion."""
MODEL_COLUMNS = ("PULocationID", "DOLocationID", "trip_distance")
"""The columns of a trip the model reads; its signature asks for these."""
MODEL_PACKAGES = ("cadenza", "xgboost|xgboost-cpu", "scikit-learn", "scipy")
"""What loading the model needs (recorded as its requirements, pinned)."""
_CODE_MODULES = ("examples.taxi.training", "examples.taxi.features")
"""The modules whose code the saved model carries with it."""


def model_example(trips: MonthTrips, rows: int = 5) -> pd.DataFrame:
    """A few raw trips, as the model's input example (they give its signature).

    The location ids are given as floating-point numbers: that is how pandas reads them
    from a TLC file whose id columns have gaps, and the model accepts a missing id (it
    counts as no zone pair), so a DataFrame read from any month's file fits the
    signature.
    """
    example = trips.trips[list(MODEL_COLUMNS)].head(rows)
    return example.astype({"PULocationID": "float64", "DOLocationID": "float64"})


@contextlib.contextmanager
def _code_saved_by_value() -> Iterator[None]:
    """Make cloudpickle save the model's classes and functions themselves, not
    references to this repository's modules."""
    import cloudpickle

    registered = set(cloudpickle.list_registry_pickle_by_value())
    added = [sys.modules[name] for name in _CODE_MODULES if name not in registered]
    for module in added:
        cloudpickle.register_pickle_by_value(module)
    try:
        yield
    finally:
        for module in added:
            cloudpickle.unregister_pickle_by_value(module)


@task(task_run_name="log-model")
def log_duration_model(model: DurationModel, example: pd.DataFrame) -> str:
    """Save the model as an artifact of this task run; returns its ``runs:/`` URI."""
    from cadenza.registry.environment import pinned

    with _code_saved_by_value():
        info = cadenza.log_model(
            model,
            name="model",
            input_example=example,
            flavor="python_function",
            pip_requirements=pinned(MODEL_PACKAGES),
            metadata={
                "train_month": model.train_month,
                "validation_month": model.valid_month,
                "trees": model.trees,
                "params": model.params,
            },
        )
    get_run_logger().info("Logged the model at %s", info.model_uri)
    return info.model_uri


@task(task_run_name="register-{name}")
def register(model_uri: str, name: str, rmse: float, train_month: str, valid_month: str) -> int:
    """Register the logged model as the next version of ``name``; returns its number.

    The version is tagged with its months and RMSE, and described in words.
    """
    version = cadenza.register_model(
        model_uri,
        name,
        tags={"train_month": train_month, "validation_month": valid_month, "rmse": f"{rmse:.4f}"},
        description=(
            f"XGBoost on the zone pair PU_DO and trip_distance, trained on {train_month}: "
            f"RMSE {rmse:.3f} minutes on {valid_month}."
        ),
    )
    get_run_logger().info("Registered %s version %d", name, version.version)
    return version.version


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote` decided for a new version."""

    name: str
    version: int
    alias: str
    """:data:`CHAMPION` when the version won (or was the first), else :data:`CHALLENGER`."""
    rmse: float
    """The new version's RMSE on the validation month."""
    valid_month: str
    champion_version: int | None = None
    """The champion it was compared with (None for the first version)."""
    champion_rmse: float | None = None
    """That champion's RMSE on the same month (None when there was none, or when it
    could not be scored)."""
    reason: str = ""
    """Why, in words; also the comment of the alias move and the version's tag
    ``promotion``."""

    @property
    def promoted(self) -> bool:
        return self.alias == CHAMPION


def _score_champion(name: str, version: int, trips: MonthTrips) -> tuple[float | None, str]:
    """The RMSE of version ``version`` on ``trips``, or None and why it has none."""
    try:
        model = cadenza.load_model(f"models:/{name}/{version}")
        return rmse_on(model, trips), ""
    except Exception as exc:  # another feature set, a library gone...: no comparison
        return None, f"{type(exc).__name__}: {exc}"


@task(task_run_name="promote-{name}-v{version}")
def promote(name: str, version: int, rmse: float, valid: MonthTrips) -> Promotion:
    """Make ``version`` the champion if it beats the current one on ``valid``.

    The current champion is loaded from the registry and scored on the same month's
    trips as the new version; the alias moves only when the new RMSE is lower. A
    version that does not win becomes the challenger; so does one whose champion
    cannot be scored (its alias stays: move it by hand if the new version should
    serve). Both RMSEs are recorded on the version as tags.
    """
    from cadenza.exceptions import ModelVersionNotFoundError
    from cadenza.registry.client import RegistryClient

    client = RegistryClient()
    month = valid.label
    logger = get_run_logger()
    try:
        current: int | None = client.get_model_version_by_alias(name, CHAMPION).version
    except ModelVersionNotFoundError:
        current = None
    champion_rmse: float | None = None
    if current is None:
        alias, reason = CHAMPION, f"the first champion: RMSE {rmse:.3f} on {month}"
    else:
        champion_rmse, problem = _score_champion(name, current, valid)
        if champion_rmse is None:
            alias = CHALLENGER
            reason = (
                f"version {current}, the champion, could not be scored on {month} ({problem}); "
                f"it stays champion. Move the alias by hand if version {version} should "
                f"serve: cadenza models alias {name} {version} {CHAMPION}"
            )
            logger.warning("%s", reason)
        elif rmse < champion_rmse:
            alias = CHAMPION
            reason = (
                f"beat version {current} on {month}: RMSE {rmse:.3f} against {champion_rmse:.3f}"
            )
        else:
            alias = CHALLENGER
            reason = (
                f"did not beat version {current}, the champion, on {month}: RMSE {rmse:.3f} "
                f"against {champion_rmse:.3f}"
            )
    client.set_registered_model_alias(name, alias, version, comment=reason)
    if champion_rmse is not None:
        client.set_model_version_tag(name, version, "champion_rmse", f"{champion_rmse:.4f}")
    client.set_model_version_tag(name, version, "promotion", f"{alias}: {reason}")
    logger.info("%s version %d is the %s: %s", name, version, alias, reason)
    return Promotion(name, version, alias, rmse, month, current, champion_rmse, reason)
