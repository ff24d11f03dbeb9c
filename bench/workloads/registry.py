"""The model registry's common calls on one XGBoost model: medians of N rounds.

    python registry.py FRAMEWORK N

An ``XGBRegressor`` of 50 trees on 8 columns of taxi-like trips (trip duration from
distance, places, time of day...) is trained with a fixed seed, then each round logs
it three times (requirements inferred; the requirements given; the requirements given
and an input example, whose signature costs a prediction), registers the first as the
next version of ``taxi-duration``, points the alias ``champion`` at that version,
loads ``models:/taxi-duration@champion`` and predicts on 1,000 rows. Each step is
timed on its own; one untimed round warms up first (imports, the database's tables).

cadenza: ``cadenza.log_model`` inside a ``@flow``, ``cadenza.register_model``,
``TrackingClient().set_registered_model_alias``, ``cadenza.load_model``. MLflow:
``mlflow.xgboost.log_model`` inside ``mlflow.start_run()``, ``mlflow.register_model``,
``MlflowClient().set_registered_model_alias``, ``mlflow.pyfunc.load_model``, on
``mlflow.db`` and ``mlruns/`` in the home. plain: XGBoost's own ``save_model`` and
``load_model`` of a file, and ``predict``. Every prediction is checked against the
trained model's own.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import pandas as pd
import taxi
import xgboost as xgb
from common import Measurement
from tracking_common import mlflow_module

MODEL = "taxi-duration"
ALIAS = "champion"
FEATURES = (
    "vendor_id",
    "passenger_count",
    "trip_distance",
    "pickup_location_id",
    "dropoff_location_id",
    "pickup_hour",
    "pickup_weekday",
    "payment_code",
)
TRAIN_ROWS = 5_000
PREDICT_ROWS = 1_000
TOLERANCE = 1e-5
STEPS = (
    "log_model",
    "log_model_given",
    "log_model_example",
    "register_model",
    "set_alias",
    "load_model",
    "predict",
)


def features(trips: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """8 numeric columns of the trips, and the trip's duration in minutes."""
    pickup = trips["pickup_datetime"]
    frame = trips.assign(
        pickup_hour=pickup.dt.hour,
        pickup_weekday=pickup.dt.day_of_week,
        payment_code=trips["payment_type"].cat.codes.astype("int64"),
    )
    minutes = (trips["dropoff_datetime"] - pickup).dt.total_seconds() / 60
    return frame[list(FEATURES)].astype("float64"), minutes


def distribution(*names: str) -> str:
    """``name==version`` of the first of ``names`` installed."""
    for name in names:
        try:
            return f"{name}=={version(name)}"
        except PackageNotFoundError:
            continue
    raise SystemExit(f"none of {', '.join(names)} is installed")


measurement = Measurement()
x_train, y_train = features(taxi.trips(TRAIN_ROWS, seed=11))
x_new, _ = features(taxi.trips(PREDICT_ROWS, seed=12))
model = xgb.XGBRegressor(n_estimators=50, max_depth=4, random_state=0, n_jobs=1)
model.fit(x_train, y_train)
expected = model.predict(x_new)
example = x_train.head(5)
# The requirements both frameworks would infer, given instead.
requirements = [
    distribution("xgboost", "xgboost-cpu"),
    distribution("numpy"),
    distribution("pandas"),
]
times: dict[str, list[float]] = {step: [] for step in STEPS}
timing = False


def timed(step: str, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = call()
    if timing:
        times[step].append(time.perf_counter() - started)
    return result


if measurement.framework == "cadenza":
    import cadenza

    client = cadenza.TrackingClient()

    @cadenza.flow
    def training() -> str:
        info = timed("log_model", lambda: cadenza.log_model(model, name="model"))
        timed(
            "log_model_given",
            lambda: cadenza.log_model(model, name="given", pip_requirements=requirements),
        )
        timed(
            "log_model_example",
            lambda: cadenza.log_model(
                model, name="example", pip_requirements=requirements, input_example=example
            ),
        )
        return info.model_uri

    def one_round() -> Any:
        uri = training()
        number = timed("register_model", lambda: cadenza.register_model(uri, MODEL)).version
        timed("set_alias", lambda: client.set_registered_model_alias(MODEL, ALIAS, number))
        loaded = timed("load_model", lambda: cadenza.load_model(f"models:/{MODEL}@{ALIAS}"))
        return timed("predict", lambda: loaded.predict(x_new))

elif measurement.framework == "mlflow":
    import mlflow.pyfunc
    import mlflow.xgboost

    client = mlflow_module().MlflowClient()

    def one_round() -> Any:
        with mlflow.start_run():
            info = timed("log_model", lambda: mlflow.xgboost.log_model(model, name="model"))
            timed(
                "log_model_given",
                lambda: mlflow.xgboost.log_model(
                    model, name="given", pip_requirements=requirements
                ),
            )
            timed(
                "log_model_example",
                lambda: mlflow.xgboost.log_model(
                    model, name="example", pip_requirements=requirements, input_example=example
                ),
            )
        number = timed("register_model", lambda: mlflow.register_model(info.model_uri, MODEL))
        timed("set_alias", lambda: client.set_registered_model_alias(MODEL, ALIAS, number.version))
        loaded = timed("load_model", lambda: mlflow.pyfunc.load_model(f"models:/{MODEL}@{ALIAS}"))
        return timed("predict", lambda: loaded.predict(x_new))

else:
    folder = Path(tempfile.mkdtemp(prefix="models-", dir="."))
    rounds = itertools.count()

    def one_round() -> Any:
        path = folder / f"model-{next(rounds)}.ubj"
        timed("log_model", lambda: model.save_model(path))
        loaded = xgb.XGBRegressor()
        timed("load_model", lambda: loaded.load_model(path))
        return timed("predict", lambda: loaded.predict(x_new))


def check(predicted: Any) -> None:
    values = np.asarray(predicted, dtype="float64").reshape(-1)
    difference = float(np.max(np.abs(values - expected)))
    measurement.figures["max_prediction_difference"] = max(
        difference, measurement.figures.get("max_prediction_difference", 0.0)
    )
    if values.shape != expected.shape or difference > TOLERANCE:
        raise SystemExit(f"the loaded model predicted other values (up to {difference} off)")


check(one_round())
timing = True
for _ in range(measurement.n):
    check(one_round())
for step, values in times.items():
    if values:
        measurement.figures[f"{step}_seconds"] = median(values)
        measurement.figures[f"{step}_samples"] = values
measurement.figures["rounds"] = measurement.n
measurement.figures["trees"] = model.get_booster().num_boosted_rounds()
measurement.figures["features"] = len(FEATURES)
