"""The scikit-learn flavor's functions, as ``mlflow.sklearn``'s."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def log_model(sk_model: Any, name: str = "model", **kwargs: Any) -> Any:
    """Log a scikit-learn estimator or pipeline; takes the arguments of
    :func:`cadenza.log_model`."""
    from cadenza.registry.fluent import log_model as log

    return log(sk_model, name, flavor="sklearn", **kwargs)


def load_model(model_uri: str, dst_path: str | Path | None = None) -> Any:
    """The estimator saved at ``model_uri``, as it was logged.

    Raises:
        InvalidModelError: the model was not logged in the sklearn flavor.
    """
    from cadenza.registry.fluent import load_native

    return load_native(model_uri, "sklearn", dst_path=dst_path)
