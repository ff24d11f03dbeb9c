"""The scikit-learn flavor: any estimator or pipeline, pickled with cloudpickle (so that
transformers defined in a script or notebook load back too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAME = "sklearn"
PACKAGES = ("scikit-learn",)
FILE = "model.pkl"


def accepts(model: Any) -> bool:
    from sklearn.base import BaseEstimator

    return isinstance(model, BaseEstimator)


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    import cloudpickle
    import sklearn

    with (folder / FILE).open("wb") as f:
        cloudpickle.dump(model, f)
    return {
        "pickled_model": FILE,
        "serialization_format": "cloudpickle",
        "sklearn_version": sklearn.__version__,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
    }


def load(folder: Path, conf: dict[str, Any]) -> Any:
    import cloudpickle

    with (folder / conf.get("pickled_model", FILE)).open("rb") as f:
        return cloudpickle.load(f)


def predict(model: Any, data: Any) -> Any:
    return model.predict(data)
