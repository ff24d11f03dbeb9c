"""The python-function flavor: any object with ``predict(data)``, or a
:class:`~cadenza.registry.pyfunc.PythonModel` with ``predict(context, model_input)``,
saved with cloudpickle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAME = "python_function"
PACKAGES = ("cadenza",)
FILE = "python_model.pkl"


def accepts(model: Any) -> bool:
    from cadenza.registry.pyfunc import PythonModel

    return isinstance(model, PythonModel) or callable(getattr(model, "predict", None))


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    import cloudpickle

    from cadenza.registry.pyfunc import PythonModel

    with (folder / FILE).open("wb") as f:
        cloudpickle.dump(model, f)
    return {
        "python_model": FILE,
        "kind": "PythonModel" if isinstance(model, PythonModel) else "object",
        "cloudpickle_version": cloudpickle.__version__,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
    }


def load(folder: Path, conf: dict[str, Any]) -> Any:
    import cloudpickle

    from cadenza.registry.pyfunc import PythonModel, PythonModelContext

    with (folder / conf.get("python_model", FILE)).open("rb") as f:
        model = cloudpickle.load(f)
    if isinstance(model, PythonModel):
        model.load_context(PythonModelContext(artifacts={}, model_config={}))
    return model


def predict(model: Any, data: Any) -> Any:
    from cadenza.registry.pyfunc import PythonModel, PythonModelContext

    if isinstance(model, PythonModel):
        return model.predict(PythonModelContext(artifacts={}, model_config={}), data)
    return model.predict(data)
