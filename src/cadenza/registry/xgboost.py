"""The XGBoost flavor's functions, as ``mlflow.xgboost``'s."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def log_model(
    xgb_model: Any, name: str = "model", *, model_format: str = "ubj", **kwargs: Any
) -> Any:
    """Log a ``Booster`` or an ``XGBModel`` in XGBoost's format (``ubj`` or ``json``);
    takes the arguments of :func:`cadenza.log_model`."""
    from cadenza.registry.fluent import log_model as log

    return log(
        xgb_model, name, flavor="xgboost", flavor_options={"model_format": model_format}, **kwargs
    )


def load_model(model_uri: str, dst_path: str | Path | None = None) -> Any:
    """The Booster or XGBModel saved at ``model_uri``, of the class it was logged as.

    Raises:
        InvalidModelError: the model was not logged in the xgboost flavor.
    """
    from cadenza.registry.fluent import load_native

    return load_native(model_uri, "xgboost", dst_path=dst_path)
