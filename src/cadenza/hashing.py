"""Content hashes of task inputs, for cache keys.

Hashes are computed from what a value holds, not from its identity: two
DataFrames with the same cells hash alike, and differ when one cell differs. The
types ML pipelines pass around are hashed from their memory buffers, without
copying them to bytes one element at a time:

- numpy arrays (dtype, shape and the raw buffer),
- pandas DataFrames, Series and Indexes (``pandas.util.hash_pandas_object``),
- scipy sparse matrices (format, shape and the component arrays),
- pyarrow Tables, RecordBatches and Arrays (schema and the column buffers),
- polars DataFrames and Series (``hash_rows``/``hash`` plus the schema),
- plain Python data (None, bool, int, float, str, bytes, containers, dates,
  paths, enums, dataclasses, pydantic models).

Anything else is hashed from its cloudpickle serialization. A value that cannot
be hashed raises :class:`UnhashableInputError`, naming the argument and the ways out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from cadenza.exceptions import CadenzaError

_Hasher = Any  # hashlib's blake2b object


class UnhashableInputError(CadenzaError, TypeError):
    """An input of a cached task could not be turned into a cache key."""


def new_hasher() -> _Hasher:
    return hashlib.blake2b(digest_size=16)


def hash_objects(*values: Any) -> str:
    """A hex digest of ``values`` taken together.

    Raises:
        UnhashableInputError: a value cannot be hashed (not picklable either).
    """
    h = new_hasher()
    for value in values:
        update(h, value)
    return h.hexdigest()


def update(h: _Hasher, value: Any) -> None:
    """Feed ``value`` into the hasher ``h``."""
    _update(h, value, 0)


def _tag(h: _Hasher, tag: bytes) -> None:
    h.update(tag)
    h.update(b"\x00")


def _update(h: _Hasher, value: Any, depth: int) -> None:
    if depth > 200:
        raise UnhashableInputError("the value nests more than 200 levels deep")
    cls = type(value)
    simple = _SIMPLE.get(cls)
    if simple is not None:
        simple(h, value)
        return
    if cls in (list, tuple):
        _tag(h, b"list" if cls is list else b"tuple")
        h.update(len(value).to_bytes(8, "little"))
        for item in value:
            _update(h, item, depth + 1)
        return
    if cls is dict:
        _tag(h, b"dict")
        h.update(len(value).to_bytes(8, "little"))
        for key_digest, item in sorted((hash_objects(k), v) for k, v in value.items()):
            h.update(key_digest.encode())
            _update(h, item, depth + 1)
        return
    if cls in (set, frozenset):
        _tag(h, b"set")
        for digest in sorted(hash_objects(v) for v in value):
            h.update(digest.encode())
        return
    handler = _handler_for(cls)
    if handler is not None:
        handler(h, value)
        return
    if isinstance(value, enum.Enum):
        _tag(h, f"enum:{cls.__module__}.{cls.__qualname__}".encode())
        _update(h, value.value, depth + 1)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _tag(h, f"dataclass:{cls.__module__}.{cls.__qualname__}".encode())
        for f in dataclasses.fields(value):
            h.update(f.name.encode())
            _update(h, getattr(value, f.name), depth + 1)
        return
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(cls, "model_fields"):
        _tag(h, f"model:{cls.__module__}.{cls.__qualname__}".encode())
        _update(h, dump(), depth + 1)
        return
    if isinstance(value, dict | list | tuple | set | frozenset | str | bytes | int | float):
        # Subclasses of builtin containers and scalars (OrderedDict, namedtuples...).
        _tag(h, f"{cls.__module__}.{cls.__qualname__}".encode())
        base: Any = next(
            b
            for b in (dict, list, tuple, set, frozenset, str, bytes, int, float)
            if isinstance(value, b)
        )
        _update(h, base(value), depth + 1)
        return
    _pickled(h, value)


def _pickled(h: _Hasher, value: Any) -> None:
    import cloudpickle

    try:
        data = cloudpickle.dumps(value)
    except Exception as exc:
        raise UnhashableInputError(
            f"a {type(value).__qualname__} cannot be hashed: it is not picklable ({exc})"
        ) from exc
    _tag(h, b"pickle")
    h.update(data)


# -- plain Python ------------------------------------------------------------------------------
def _none(h: _Hasher, v: None) -> None:
    _tag(h, b"none")


def _bool(h: _Hasher, v: bool) -> None:
    _tag(h, b"true" if v else b"false")


def _int(h: _Hasher, v: int) -> None:
    _tag(h, b"int")
    h.update(str(v).encode())


def _float(h: _Hasher, v: float) -> None:
    _tag(h, b"float")
    h.update(v.hex().encode())


def _str(h: _Hasher, v: str) -> None:
    _tag(h, b"str")
    h.update(len(v).to_bytes(8, "little"))
    h.update(v.encode("utf-8", "surrogatepass"))


def _bytes(h: _Hasher, v: bytes | bytearray | memoryview) -> None:
    _tag(h, b"bytes")
    h.update(len(v).to_bytes(8, "little"))
    h.update(v)


def _text(tag: bytes) -> Callable[[_Hasher, Any], None]:
    def update_text(h: _Hasher, v: Any) -> None:
        _tag(h, tag)
        h.update(str(v).encode())

    return update_text


def _datetime(h: _Hasher, v: dt.date | dt.time) -> None:
    _tag(h, type(v).__name__.encode())
    h.update(v.isoformat().encode())


def _complex(h: _Hasher, v: complex) -> None:
    _tag(h, b"complex")
    h.update(f"{v.real.hex()},{v.imag.hex()}".encode())


_SIMPLE: dict[type, Callable[[_Hasher, Any], None]] = {
    type(None): _none,
    bool: _bool,
    int: _int,
    float: _float,
    complex: _complex,
    str: _str,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
    dt.datetime: _datetime,
    dt.date: _datetime,
    dt.time: _datetime,
    dt.timedelta: _text(b"timedelta"),
    Decimal: _text(b"decimal"),
    Fraction: _text(b"fraction"),
    uuid.UUID: _text(b"uuid"),
    range: _text(b"range"),
}


# -- data libraries (imported only when a value of theirs shows up) -----------------------------
def _numpy_array(h: _Hasher, a: Any) -> None:
    import numpy as np

    _tag(h, b"ndarray")
    h.update(f"{a.dtype.str}|{a.shape}".encode())
    if a.dtype.hasobject:
        for item in a.ravel(order="C").tolist():
            _update(h, item, 1)
        return
    h.update(memoryview(np.ascontiguousarray(a)).cast("B"))  # type: ignore[arg-type]


def _numpy_scalar(h: _Hasher, v: Any) -> None:
    _tag(h, b"npscalar")
    h.update(v.dtype.str.encode())
    h.update(v.tobytes())


def _pandas(h: _Hasher, obj: Any) -> None:
    import pandas as pd

    _tag(h, f"pandas.{type(obj).__name__}".encode())
    if isinstance(obj, pd.DataFrame):
        h.update(repr([(str(c), str(t)) for c, t in obj.dtypes.items()]).encode())
    else:
        h.update(f"{getattr(obj, 'name', None)}|{obj.dtype}".encode())
    h.update(str(obj.shape).encode())
    try:
        row_hashes = pd.util.hash_pandas_object(obj, index=True, categorize=True)
        h.update(memoryview(row_hashes.to_numpy()).cast("B"))
    except TypeError:
        # Cells pandas cannot hash (lists, dicts): hash the values one by one.
        _update(h, obj.to_dict() if isinstance(obj, pd.DataFrame) else obj.tolist(), 1)


def _scipy_sparse(h: _Hasher, m: Any) -> None:
    _tag(h, b"sparse")
    m = m.tocsr()
    m.sort_indices()
    h.update(f"{m.format}|{m.shape}|{m.dtype.str}".encode())
    for part in (m.data, m.indices, m.indptr):
        _numpy_array(h, part)


def _arrow(h: _Hasher, obj: Any) -> None:
    import pyarrow as pa

    _tag(h, f"arrow.{type(obj).__name__}".encode())
    if isinstance(obj, pa.Table | pa.RecordBatch):
        h.update(str(obj.schema).encode())
        columns = obj.columns
    else:
        h.update(str(obj.type).encode())
        columns = [obj]
    for column in columns:
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        for chunk in chunks:
            chunk = pa.concat_arrays([chunk])  # normalize offsets of sliced arrays
            h.update(str(len(chunk)).encode())
            for buffer in chunk.buffers():
                if buffer is not None:
                    h.update(memoryview(buffer))


def _polars(h: _Hasher, obj: Any) -> None:
    _tag(h, f"polars.{type(obj).__name__}".encode())
    if type(obj).__name__ == "DataFrame":
        h.update(repr(list(obj.schema.items())).encode())
        hashes = obj.hash_rows(seed=0)
    else:
        h.update(f"{obj.name}|{obj.dtype}".encode())
        hashes = obj.hash(seed=0)
    _numpy_array(h, hashes.to_numpy())


def _path(h: _Hasher, v: PurePath) -> None:
    _tag(h, b"path")
    h.update(str(v).encode())


def _handler_for(cls: type) -> Callable[[_Hasher, Any], None] | None:
    module = cls.__module__ or ""
    if module.startswith("numpy"):
        if cls.__name__ in ("ndarray", "memmap", "matrix"):
            return _numpy_array
        if hasattr(cls, "dtype") and hasattr(cls, "tobytes"):
            return _numpy_scalar
    if module.startswith("pandas") and cls.__name__ in (
        "DataFrame",
        "Series",
        "Index",
        "RangeIndex",
        "MultiIndex",
        "DatetimeIndex",
        "CategoricalIndex",
    ):
        return _pandas
    if module.startswith("scipy.sparse"):
        return _scipy_sparse
    if (
        module.startswith("pyarrow")
        and cls.__name__
        in (
            "Table",
            "RecordBatch",
            "ChunkedArray",
        )
    ) or (module.startswith("pyarrow") and cls.__name__.endswith("Array")):
        return _arrow
    if module.startswith("polars") and cls.__name__ in ("DataFrame", "Series"):
        return _polars
    if issubclass(cls, PurePath):
        return _path
    return None
