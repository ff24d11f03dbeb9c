"""How results are turned into bytes: cloudpickle (the default) or JSON."""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from cadenza.exceptions import CadenzaError


class SerializationError(CadenzaError):
    """A result could not be serialized or deserialized."""


@runtime_checkable
class Serializer(Protocol):
    """Turns a value into bytes and back. ``name`` is recorded with every result."""

    name: str

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class PickleSerializer:
    """cloudpickle: any Python object, including lambdas and local classes."""

    name = "cloudpickle"

    def dumps(self, value: Any) -> bytes:
        import cloudpickle

        try:
            return cloudpickle.dumps(value)
        except Exception as exc:
            raise SerializationError(
                f"Could not pickle a {type(value).__qualname__} result: {exc}. Return a "
                "picklable value, or turn result persistence off for this task "
                "(persist_result=False, cache_policy=NO_CACHE)."
            ) from exc

    def loads(self, data: bytes) -> Any:
        import pickle

        return pickle.loads(data)


class JSONSerializer:
    """JSON: readable by any tool, for plain data (dicts, lists, numbers, strings)."""

    name = "json"

    def dumps(self, value: Any) -> bytes:
        try:
            return json.dumps(value, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"A {type(value).__qualname__} result cannot be written as JSON ({exc}); "
                "use result_serializer='cloudpickle'."
            ) from exc

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


_BY_NAME: dict[str, Serializer] = {
    "cloudpickle": PickleSerializer(),
    "pickle": PickleSerializer(),
    "json": JSONSerializer(),
}


def get_serializer(spec: str | Serializer | None) -> Serializer:
    """The serializer for a name (``"cloudpickle"``, ``"json"``) or an object."""
    if spec is None:
        return _BY_NAME["cloudpickle"]
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec.lower()]
        except KeyError:
            raise ValueError(
                f"Unknown result serializer {spec!r}; use 'cloudpickle' or 'json', or "
                "an object with name, dumps() and loads()."
            ) from None
    if isinstance(spec, Serializer):
        return spec
    raise TypeError(f"result_serializer must be a name or a Serializer, got {spec!r}.")
