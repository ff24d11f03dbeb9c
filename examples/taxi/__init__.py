"""The NYC-taxi training pipeline: a model of green-taxi trip durations, on cadenza.

The MLOps Zoomcamp course's pipeline as a cadenza flow. Run it end to end on
generated months with ``make demo`` or ``python -m examples.taxi``; from Python::

    from examples.taxi import train_duration_model

    result = train_duration_model(year=2023, month=1, trials=10)  # the TLC's files
    result.rmse, result.model.predict(trips_dataframe)
    result.promotion.version, result.promotion.alias  # 3, "champion"

See docs/taxi.md.
"""

from examples.taxi.data import SCHEMA, generate_month, write_month
from examples.taxi.download import TLC_URL, MonthFile, download_month, locate_month
from examples.taxi.errors import (
    DownloadError,
    InvalidMonthData,
    MonthNotFound,
    NoUsableRows,
    TaxiDataError,
    TruncatedDownload,
)
from examples.taxi.features import FeatureSet, build_features
from examples.taxi.flow import TrainingResult, train_duration_model
from examples.taxi.mirror import FlakyMirror
from examples.taxi.months import next_month, training_month_for
from examples.taxi.registry import MODEL_NAME, Promotion, log_duration_model, promote, register
from examples.taxi.training import DurationModel, evaluate, train_model
from examples.taxi.tuning import TrialResult, train_trial
from examples.taxi.validate import DataQuality, MonthTrips, read_month

__all__ = [
    "MODEL_NAME",
    "SCHEMA",
    "TLC_URL",
    "DataQuality",
    "DownloadError",
    "DurationModel",
    "FeatureSet",
    "FlakyMirror",
    "InvalidMonthData",
    "MonthFile",
    "MonthNotFound",
    "MonthTrips",
    "NoUsableRows",
    "Promotion",
    "TaxiDataError",
    "TrainingResult",
    "TrialResult",
    "TruncatedDownload",
    "build_features",
    "download_month",
    "evaluate",
    "generate_month",
    "locate_month",
    "log_duration_model",
    "next_month",
    "promote",
    "read_month",
    "register",
    "train_duration_model",
    "train_model",
    "train_trial",
    "training_month_for",
    "write_month",
]
