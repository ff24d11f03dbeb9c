"""Binding and validating flow parameters before a flow run starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
import uuid
from pathlib import PurePath
from typing import Any

from cadenza.events import summarize_value
from cadenza.exceptions import ParameterTypeError


def bind(
    owner: str, signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> inspect.BoundArguments:
    """Bind call arguments to the signature, with defaults applied.

    Raises:
        ParameterTypeError: a missing, unexpected or doubled argument, named.
    """
    params = signature.parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unexpected = [k for k in kwargs if k not in params and not accepts_any]
    if unexpected:
        import difflib

        hints = []
        for name in unexpected:
            close = difflib.get_close_matches(name, list(params), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        names = ", ".join(params) or "none"
        raise ParameterTypeError(
            f"{owner} got unexpected parameter(s) {', '.join(hints)}. Its parameters are: {names}."
        )
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        names = ", ".join(params) or "none"
        raise ParameterTypeError(f"{owner}: {exc}. Its parameters are: {names}.") from None
    bound.apply_defaults()
    return bound


_EXACT_TYPES = frozenset({int, float, str, bool, bytes})
_UNBUILT: Any = object()


class ParameterValidator:
    """Validates and coerces parameters against the function's type hints (pydantic).

    Built on first use per flow. Annotations pydantic cannot use (``tuple([...])``
    as a return annotation, forward references that do not resolve, arbitrary
    objects) are treated as ``Any`` rather than breaking the flow.

    A value whose annotation is a plain ``int``, ``float``, ``str``, ``bool`` or
    ``bytes`` and that has exactly that type is valid as it is: such calls do not
    import pydantic at all (it costs about 0.1 s on the first flow of a process).
    """

    def __init__(self, fn: Any, signature: inspect.Signature) -> None:
        hints = _type_hints(fn)
        annotated = {
            name: hints.get(name, p.annotation)
            for name, p in signature.parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and p.annotation is not inspect.Parameter.empty
        }
        self._annotations = {
            n: a
            for n, a in annotated.items()
            if a is not Any and a is not object and not isinstance(a, str)
        }
        self._adapters: dict[str, Any] = dict.fromkeys(self._annotations, _UNBUILT)

    @property
    def active(self) -> bool:
        return bool(self._adapters)

    def _adapter(self, name: str) -> Any:
        """The pydantic adapter of a parameter, built on first need (None: accept all)."""
        adapter = self._adapters.get(name)
        if adapter is not _UNBUILT:
            return adapter
        from pydantic import ConfigDict, TypeAdapter

        annotation = self._annotations[name]
        try:
            if isinstance(annotation, type) and _is_model_or_dataclass(annotation):
                adapter = TypeAdapter(annotation)
            else:
                adapter = TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))
        except Exception:
            adapter = None  # not a type pydantic understands: accept any value
        self._adapters[name] = adapter
        return adapter

    def validate(self, owner: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Return the arguments with validated (coerced) values.

        Raises:
            ParameterTypeError: listing every invalid parameter and why.
        """
        out = arguments
        problems: list[str] = []
        for name, annotation in self._annotations.items():
            if name not in arguments:
                continue
            value = arguments[name]
            if annotation in _EXACT_TYPES and type(value) is annotation:
                continue
            adapter = self._adapter(name)
            if adapter is None:
                continue
            from pydantic import ValidationError

            try:
                validated = adapter.validate_python(value)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc = ".".join(str(p) for p in (name, *err.get("loc", ())))
                    problems.append(
                        f"  - {loc}: {err['msg']} (got {_short(err.get('input', value))})"
                    )
                continue
            except Exception:
                # An annotation pydantic accepted but cannot validate with (e.g. an
                # unresolved reference inside it): accept any value from now on.
                self._adapters[name] = None
                continue
            if out is arguments:
                out = dict(arguments)
            out[name] = validated
        if problems:
            raise ParameterTypeError(
                f"Invalid parameters for {owner}:\n"
                + "\n".join(problems)
                + "\nPass values of the annotated types, or use validate_parameters=False."
            )
        return out


def _is_model_or_dataclass(annotation: type) -> bool:
    if dataclasses.is_dataclass(annotation):
        return True
    return hasattr(annotation, "model_config") and hasattr(annotation, "model_validate")


def _type_hints(fn: Any) -> dict[str, Any]:
    """Resolved annotations; one that does not resolve is left out, not fatal."""
    import typing

    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        pass
    raw = getattr(fn, "__annotations__", {}) or {}
    namespace = dict(getattr(fn, "__globals__", {}))
    closure = getattr(fn, "__closure__", None) or ()
    for name, cell in zip(
        fn.__code__.co_freevars if hasattr(fn, "__code__") else (), closure, strict=False
    ):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:
            pass
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "return":
            continue
        if isinstance(value, str):
            try:
                value = eval(value, namespace)
            except Exception:
                continue
        out[key] = value
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _summary(value: Any) -> dict[str, Any]:
    return {**summarize_value(value), "summary": True}


def is_lossy(value: Any) -> bool:
    """Whether a JSON form made by :func:`jsonable` summarized some value away."""
    if isinstance(value, dict):
        if value.get("summary") is True and "type" in value:
            return True
        return any(is_lossy(v) for v in value.values())
    if isinstance(value, list):
        return any(is_lossy(v) for v in value)
    return False


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-serializable form of a parameter value, for the run record.

    Plain data is kept; dates, paths, enums, UUIDs, dataclasses and pydantic models
    are converted; anything else (DataFrames, arrays, models) becomes a short
    summary marked ``"summary": true``, never a full dump.
    """
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, str) and len(value) > 2000:
            return value[:2000] + "…"
        return value
    if depth > 6:
        return _summary(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in list(value.items())[:1000]}
    if isinstance(value, list | tuple | set | frozenset):
        if len(value) > 1000:
            return _summary(value)
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return jsonable(value.value, depth + 1)
    if isinstance(value, PurePath | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), depth + 1)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(mode="json"), depth + 1)
        except Exception:
            pass
    return _summary(value)
