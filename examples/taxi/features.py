"""Features of a trip: the pick-up and drop-off zone pair, and the distance.

As in the MLOps Zoomcamp course, ``PU_DO`` is ``"<PULocationID>_<DOLocationID>"``, a
categorical feature one-hot encoded by a ``DictVectorizer`` together with the numeric
``trip_distance``. The preparation is a scikit-learn pipeline that takes a DataFrame
of raw trips, so that the trained model predicts on trips as they come.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cadenza
from cadenza import get_run_logger, task
from cadenza.cache_policies import INPUTS, TASK_SOURCE
from examples.taxi.validate import MonthTrips

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from scipy.sparse import csr_matrix
    from sklearn.pipeline import Pipeline

CATEGORICAL = ["PU_DO"]
NUMERICAL = ["trip_distance"]
TARGET = "duration"


def trip_records(trips: pd.DataFrame) -> list[dict[str, Any]]:
    """The feature dicts of trips: ``{"PU_DO": "74_75", "trip_distance": 1.9}``.

    Location ids are read as whole numbers; a missing one gives the pair ``74_<NA>``,
    which the vectorizer has not seen and encodes as no zone pair.
    """
    import pandas as pd

    pu = trips["PULocationID"].astype("Int64").astype(str)
    do = trips["DOLocationID"].astype("Int64").astype(str)
    frame = pd.DataFrame(
        {"PU_DO": pu + "_" + do, "trip_distance": trips["trip_distance"].astype("float64")}
    )
    return frame.to_dict(orient="records")  # type: ignore[no-any-return]


def make_preprocessor() -> Pipeline:
    """An unfitted pipeline from a DataFrame of trips to a sparse feature matrix."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    return Pipeline(
        [
            ("records", FunctionTransformer(trip_records)),
            ("vectorizer", DictVectorizer()),
        ]
    )


@dataclass(frozen=True)
class FeatureSet:
    """The training month and the validation month, as model inputs."""

    preprocessor: Pipeline
    """Fitted on the training month; turns a DataFrame of trips into ``X``."""
    X_train: csr_matrix
    y_train: np.ndarray
    X_valid: csr_matrix
    y_valid: np.ndarray
    train_month: str
    valid_month: str

    @property
    def feature_count(self) -> int:
        return int(self.X_train.shape[1])


@task(cache_policy=INPUTS + TASK_SOURCE, task_run_name="features-{train.label}")
def build_features(train: MonthTrips, valid: MonthTrips) -> FeatureSet:
    """Fit the preparation on the training month and apply it to both months."""
    preprocessor = make_preprocessor()
    X_train = preprocessor.fit_transform(train.trips)
    X_valid = preprocessor.transform(valid.trips)
    features = FeatureSet(
        preprocessor,
        X_train,
        train.trips[TARGET].to_numpy(),
        X_valid,
        valid.trips[TARGET].to_numpy(),
        train.label,
        valid.label,
    )
    get_run_logger().info(
        "%s features (zone pairs and distance) from %s training trips of %s; "
        "%s validation trips of %s",
        f"{features.feature_count:,}",
        f"{X_train.shape[0]:,}",
        train.label,
        f"{X_valid.shape[0]:,}",
        valid.label,
    )
    return features


def log_features(features: FeatureSet) -> None:
    """Record what the features are on the current run: params, and ``features.json``
    with every column the vectorizer made (``PU_DO=74_75``..., ``trip_distance``)."""
    vectorizer = features.preprocessor.named_steps["vectorizer"]
    cadenza.log_params(
        {
            "encoder": type(vectorizer).__name__,
            "categorical": ",".join(CATEGORICAL),
            "numerical": ",".join(NUMERICAL),
            "features": features.feature_count,
        }
    )
    cadenza.log_dict(
        {
            "encoder": type(vectorizer).__name__,
            "categorical": CATEGORICAL,
            "numerical": NUMERICAL,
            "target": TARGET,
            "count": features.feature_count,
            "names": [str(name) for name in vectorizer.feature_names_],
        },
        "features.json",
    )
