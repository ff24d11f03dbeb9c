"""Model signatures: the column names and types of a model's input and output, inferred
from an example, and checked (with safe conversions) before ``predict``.

A schema is a list of column specs, as MLflow writes them: ``{"name": "trip_distance",
"type": "double"}`` for a column of a DataFrame, ``{"type": "tensor", "tensor-spec":
{"dtype": "float64", "shape": [-1, 4]}}`` for an array. Types are MLflow's:
boolean, integer (32 bits), long (64 bits), float (32 bits), double, string, binary,
datetime.
"""

from __future__ import annotations

from typing import Any

from cadenza.exceptions import InvalidModelError, ModelSignatureError

Schema = list[dict[str, Any]]

_NUMPY_OF_TYPE = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}


def _type_of(dtype: Any, sample: Any = None) -> str:
    """The schema type of a numpy or pandas dtype."""
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if dtype.itemsize >= 8 or (kind == "u" and dtype.itemsize >= 4) else "integer"
    if kind == "f":
        return "float" if dtype.itemsize <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind == "S" or isinstance(sample, bytes | bytearray):
        return "binary"
    return "string"


def _first_value(series: Any) -> Any:
    index = series.first_valid_index()
    return None if index is None else series[index]


def infer_schema(data: Any) -> Schema:
    """The schema of ``data``: a DataFrame, a Series, a dict of columns, a list of
    dicts (rows), or an array.

    Raises:
        InvalidModelError: ``data`` is of none of these kinds.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, dict | list) and not isinstance(data, np.ndarray):
        data = to_frame(data)
    if isinstance(data, pd.DataFrame):
        return [
            {"name": str(col), "type": _type_of(data[col].dtype, _first_value(data[col]))}
            for col in data.columns
        ]
    if isinstance(data, pd.Series):
        spec: dict[str, Any] = {"type": _type_of(data.dtype, _first_value(data))}
        if data.name is not None:
            spec["name"] = str(data.name)
        return [spec]
    if isinstance(data, np.ndarray):
        shape = [-1, *data.shape[1:]]
        return [{"type": "tensor", "tensor-spec": {"dtype": str(data.dtype), "shape": shape}}]
    if np.isscalar(data):
        return [{"type": _type_of(np.asarray(data).dtype, data)}]
    raise InvalidModelError(
        f"Cannot infer a schema from a {type(data).__name__}: give a pandas DataFrame, a "
        "Series, a dict of columns, a list of rows (dicts) or a numpy array.",
        field="input_example",
    )


def infer_signature(model_input: Any, model_output: Any = None) -> dict[str, Any]:
    """The signature of a model from an example input and (optionally) its prediction,
    as ``mlflow.models.infer_signature`` gives it: ``{"inputs": [...], "outputs": [...]}``.

    Example:
        >>> signature = infer_signature(X_train.head(), model.predict(X_train.head()))
    """
    return {
        "inputs": infer_schema(model_input),
        "outputs": None if model_output is None else infer_schema(model_output),
    }


def to_frame(data: Any) -> Any:
    import pandas as pd

    try:
        if isinstance(data, dict):
            values = list(data.values())
            if values and all(not hasattr(v, "__len__") or isinstance(v, str) for v in values):
                return pd.DataFrame([data])  # one row given as a dict of scalars
            return pd.DataFrame(data)
        return pd.DataFrame(list(data))
    except (TypeError, ValueError) as exc:
        raise ModelSignatureError(
            f"Could not read the model input as a table ({exc}); give a pandas DataFrame."
        ) from None


def describe(schema: Schema | None) -> str:
    """``trip_distance (double), passengers (long)`` for a schema."""
    if not schema:
        return "-"
    parts = []
    for spec in schema:
        if spec.get("type") == "tensor":
            t = spec.get("tensor-spec", {})
            parts.append(f"tensor {t.get('dtype')} {tuple(t.get('shape', ()))}")
        elif "name" in spec:
            parts.append(f"{spec['name']} ({spec['type']})")
        else:
            parts.append(str(spec.get("type")))
    return ", ".join(parts)


def enforce(schema: Schema, data: Any) -> Any:
    """``data`` checked against the input ``schema``, with compatible types converted.

    A DataFrame (or a dict of columns, or a list of rows) must have every column of
    the schema; other columns are dropped, and the columns are put in the schema's
    order. A column whose values fit the schema's type without loss (integers for a
    double, 32-bit floats for a double) is converted; one that would lose information
    is refused. An array must have the tensor's trailing dimensions.

    Raises:
        ModelSignatureError: missing columns, or a type that cannot be converted,
            naming the columns and what the signature expects.
    """
    import numpy as np
    import pandas as pd

    if not schema:
        return data
    if schema[0].get("type") == "tensor":
        return _enforce_tensor(schema[0].get("tensor-spec", {}), data)
    named = [s for s in schema if "name" in s]
    if not named:
        return data
    if isinstance(data, dict | list):
        data = to_frame(data)
    if isinstance(data, pd.Series) and len(named) == 1:
        data = data.to_frame(named[0]["name"])
    if not isinstance(data, pd.DataFrame):
        if isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == len(named):
            data = pd.DataFrame(data, columns=[s["name"] for s in named])
        else:
            raise ModelSignatureError(
                f"The model expects a table with the columns {describe(named)}; it was "
                f"given a {type(data).__name__}. Give a pandas DataFrame."
            )
    columns = [str(c) for c in data.columns]
    if columns != list(data.columns):
        data = data.set_axis(columns, axis=1)
    missing = [s["name"] for s in named if s["name"] not in data.columns]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        raise ModelSignatureError(
            f"The model input is missing the column{'s' if len(missing) > 1 else ''} "
            f"{listed}; the model's signature needs {describe(named)}."
        )
    out = data[[s["name"] for s in named]]
    converted = {}
    for spec in named:
        column = out[spec["name"]]
        fixed = _convert_column(spec["name"], spec["type"], column)
        if fixed is not column:
            converted[spec["name"]] = fixed
    if converted:
        out = out.assign(**converted)
    return out


def _convert_column(name: str, wanted: str, column: Any) -> Any:
    import numpy as np
    import pandas as pd

    dtype = column.dtype
    have = _type_of(dtype, _first_value(column) if dtype.kind == "O" else None)
    if have == wanted:
        return column
    target = _NUMPY_OF_TYPE.get(wanted)
    if target is not None and dtype.kind in "biuf" and np.can_cast(dtype, target, "safe"):
        return column.astype(target)
    if wanted == "datetime":
        try:
            return pd.to_datetime(column)
        except (TypeError, ValueError):
            pass
    hint = ""
    if wanted in ("integer", "long") and dtype.kind == "f" and column.isna().any():
        hint = (
            " The column has missing values, which integers cannot hold: fill them, or "
            "log the model with the column as double."
        )
    raise ModelSignatureError(
        f"Column {name!r} is {have} ({dtype}), which cannot be converted to {wanted} "
        f"without losing information, as the model's signature expects.{hint}"
    )


def _enforce_tensor(spec: dict[str, Any], data: Any) -> Any:
    import numpy as np

    array = np.asarray(data)
    shape = spec.get("shape") or []
    if len(shape) != array.ndim or any(
        s != -1 and s != d for s, d in zip(shape, array.shape, strict=False)
    ):
        raise ModelSignatureError(
            f"The model expects an array of shape {tuple(shape)} (-1: any size); it was "
            f"given one of shape {array.shape}."
        )
    dtype = np.dtype(spec.get("dtype", array.dtype))
    if array.dtype == dtype:
        return array
    if np.can_cast(array.dtype, dtype, "safe"):
        return array.astype(dtype)
    raise ModelSignatureError(
        f"The model expects an array of {dtype}; an array of {array.dtype} cannot be "
        "converted without losing information."
    )
