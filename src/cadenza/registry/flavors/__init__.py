"""Flavors: how a kind of model is saved in its native format, loaded back, and asked
for predictions. One module per flavor, each with the same functions:

``NAME`` (the flavor's name in ``MLmodel``), ``PACKAGES`` (the distributions its
models need), ``accepts(model)``, ``save(model, folder, options) -> conf``,
``load(folder, conf) -> native model`` and ``predict(native, data)``.

Modules are imported only when a model of theirs is saved or loaded.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from cadenza.exceptions import InvalidModelError

MODULES = {
    "xgboost": "cadenza.registry.flavors.xgboost",
    "sklearn": "cadenza.registry.flavors.sklearn",
    "python_function": "cadenza.registry.flavors.pyfunc",
}
"""Flavor name -> module, in the order a model's flavor is inferred."""

ALIASES = {"scikit-learn": "sklearn", "pyfunc": "python_function", "xgb": "xgboost"}

ACCEPTED = (
    "a scikit-learn estimator or pipeline (flavor 'sklearn'), an XGBoost Booster or "
    "XGBModel such as XGBRegressor (flavor 'xgboost'), a cadenza.registry.pyfunc."
    "PythonModel subclass, or any object with a predict method (flavor 'python_function')"
)


def module(name: str) -> ModuleType:
    """The module of the flavor ``name`` (or of one of its aliases).

    Raises:
        InvalidModelError: no flavor has this name.
    """
    key = ALIASES.get(name, name)
    path = MODULES.get(key)
    if path is None:
        raise InvalidModelError(
            f"There is no model flavor {name!r}; the flavors are {', '.join(MODULES)}.",
            field="flavor",
        )
    return importlib.import_module(path)


def infer(model: Any) -> ModuleType:
    """The module of the first flavor that accepts ``model``.

    Raises:
        InvalidModelError: none does, listing what is accepted.
    """
    for name, path in MODULES.items():
        # A flavor of a library that was never imported cannot accept the model.
        if name != "python_function" and name not in sys.modules:
            continue
        flavor = importlib.import_module(path)
        if flavor.accepts(model):
            return flavor
    raise InvalidModelError(
        f"cadenza cannot save a {type(model).__module__}.{type(model).__qualname__}: it "
        f"has no predict method and no flavor knows it. Give {ACCEPTED}.",
        field="model",
    )
