"""Generic models: :class:`PythonModel` for models written by hand, and
:class:`PyFuncModel`, what :func:`cadenza.load_model` returns for every flavor.

As in ``mlflow.pyfunc``: ``load_model(uri).predict(dataframe)``; the input is checked
against the model's signature first.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import ModuleType
from typing import Any

from cadenza.registry.descriptor import ModelDescriptor


@dataclasses.dataclass(slots=True)
class PythonModelContext:
    """What a :class:`PythonModel` is given when loaded and when predicting."""

    artifacts: dict[str, str]
    model_config: dict[str, Any]


class PythonModel:
    """A model written by hand: subclass it and define ``predict(context, model_input)``.

    Example:
        >>> class Doubler(PythonModel):
        ...     def predict(self, context, model_input, params=None):
        ...         return model_input["x"] * 2
        >>> log_model(Doubler(), name="doubler", input_example=pd.DataFrame({"x": [1.0]}))
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded; override to prepare it."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define predict(context, input)")


class PyFuncModel:
    """A loaded model of any flavor, with ``predict`` checking the model's signature."""

    def __init__(
        self, descriptor: ModelDescriptor, native: Any, flavor: ModuleType, model_uri: str
    ) -> None:
        self._descriptor = descriptor
        self._native = native
        self._flavor = flavor
        self.model_uri = model_uri

    @property
    def metadata(self) -> ModelDescriptor:
        """The model's ``MLmodel`` descriptor: flavors, signature, requirements, run."""
        return self._descriptor

    @property
    def native(self) -> Any:
        """The model as its library made it (an estimator, a Booster, your object)."""
        return self._native

    @property
    def flavor(self) -> str:
        return self._descriptor.native_flavor

    def unwrap_python_model(self) -> Any:
        """The model object underneath: the :class:`PythonModel` or object with
        ``predict`` that was logged, or the native model of other flavors."""
        return self._native

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``data`` (a DataFrame, as the model's signature describes).

        Raises:
            ModelSignatureError: ``data`` lacks columns of the signature, or has a
                column whose type cannot be converted to the signature's.
        """
        from cadenza.registry.signature import enforce

        schema = self._descriptor.get_input_schema()
        if schema:
            data = enforce(schema, data)
        return self._flavor.predict(self._native, data)

    def __repr__(self) -> str:
        return f"PyFuncModel(uri={self.model_uri!r}, flavor={self.flavor!r})"


def load_model(model_uri: str, dst_path: str | Path | None = None) -> PyFuncModel:
    """The model at ``model_uri`` with ``.predict``; see :func:`cadenza.load_model`."""
    from cadenza.registry.fluent import load_model as load

    return load(model_uri, dst_path=dst_path)


def log_model(python_model: Any, name: str = "model", **kwargs: Any) -> Any:
    """Log an object with ``predict`` (or a :class:`PythonModel`) in the python-function
    flavor; takes the arguments of :func:`cadenza.log_model`."""
    from cadenza.registry.fluent import log_model as log

    return log(python_model, name, flavor="python_function", **kwargs)
