"""What ``cadenza.log_input`` records of a dataset: fingerprint, schema, row count."""

from __future__ import annotations

from typing import Any

from cadenza.hashing import hash_objects
from cadenza.tracking.entities import Dataset


def describe(
    data: Any,
    *,
    name: str | None = None,
    source: str | None = None,
    context: str | None = None,
) -> Dataset:
    """The :class:`Dataset` record of ``data`` (its timestamp left at 0).

    Raises:
        UnhashableInputError: ``data`` cannot be fingerprinted.
    """
    schema, num_rows, profile = _shape(data)
    if name is None:
        name = source.rstrip("/").rsplit("/", 1)[-1] if source else "dataset"
    return Dataset(
        name=name or "dataset",
        digest=hash_objects(data),
        source=source,
        context=context,
        schema=schema,
        num_rows=num_rows,
        profile=profile,
    )


def _shape(data: Any) -> tuple[dict[str, str] | None, int | None, dict[str, Any]]:
    """Schema (column: dtype), row count and other facts of ``data``, without copying it."""
    cls = type(data)
    module = cls.__module__.split(".", 1)[0]
    profile: dict[str, Any] = {"type": f"{cls.__module__}.{cls.__qualname__}"}
    if module == "pandas" and cls.__name__ == "DataFrame":
        schema = {str(c): str(t) for c, t in data.dtypes.items()}
        return schema, len(data), profile
    if module == "pandas" and cls.__name__ == "Series":
        return {str(data.name or "value"): str(data.dtype)}, len(data), profile
    if module == "polars" and cls.__name__ == "DataFrame":
        schema = {str(c): str(t) for c, t in data.schema.items()}
        return schema, int(data.height), profile
    if module == "pyarrow" and cls.__name__ in ("Table", "RecordBatch"):
        schema = {f.name: str(f.type) for f in data.schema}
        return schema, int(data.num_rows), profile
    shape = getattr(data, "shape", None)
    dtype = getattr(data, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        profile["shape"] = list(shape)
        names = getattr(dtype, "names", None)
        schema = {n: str(dtype.fields[n][0]) for n in names} if names else {"array": str(dtype)}
        return schema, int(shape[0]) if shape else 1, profile
    if isinstance(data, list | tuple):
        if data and all(isinstance(r, dict) for r in data):
            columns: dict[str, str] = {}
            for record in data:
                for key, value in record.items():
                    columns.setdefault(str(key), type(value).__name__)
            return columns, len(data), profile
        return None, len(data), profile
    if isinstance(data, dict) and data and all(isinstance(v, list | tuple) for v in data.values()):
        lengths = {len(v) for v in data.values()}
        rows = lengths.pop() if len(lengths) == 1 else None
        return {str(k): "list" for k in data}, rows, profile
    return None, None, profile
