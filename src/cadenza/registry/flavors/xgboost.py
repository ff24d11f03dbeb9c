"""The XGBoost flavor: a ``Booster`` or a scikit-learn wrapper (``XGBRegressor``,
``XGBClassifier``...), saved in XGBoost's own format (``.ubj`` by default, or ``.json``)
and loaded back as the class it was."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from cadenza.exceptions import InvalidModelError

NAME = "xgboost"
PACKAGES = ("xgboost|xgboost-cpu", "scikit-learn")
FORMATS = ("ubj", "json")


def accepts(model: Any) -> bool:
    import xgboost

    return isinstance(model, xgboost.Booster | xgboost.XGBModel)


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    import xgboost

    fmt = str(options.get("model_format", "ubj")).lstrip(".")
    if fmt not in FORMATS:
        raise InvalidModelError(
            f"model_format {fmt!r} is not one XGBoost saves: use 'ubj' or 'json'.",
            field="model_format",
        )
    name = f"model.{fmt}"
    model.save_model(str(folder / name))
    cls = type(model)
    return {
        "data": name,
        "model_format": fmt,
        "xgb_version": xgboost.__version__,
        "model_class": f"{cls.__module__}.{cls.__qualname__}",
    }


def load(folder: Path, conf: dict[str, Any]) -> Any:
    import xgboost

    module_name, _, class_name = str(conf.get("model_class", "xgboost.core.Booster")).rpartition(
        "."
    )
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        cls = xgboost.Booster
    if not (isinstance(cls, type) and issubclass(cls, xgboost.Booster | xgboost.XGBModel)):
        cls = xgboost.Booster
    model = cls()
    model.load_model(str(folder / conf["data"]))
    return model


def predict(model: Any, data: Any) -> Any:
    import xgboost

    if isinstance(model, xgboost.Booster):
        return model.inplace_predict(data)
    return model.predict(data)
