"""The parameters of a deployment's runs: the JSON schema of a flow's signature, and
checking values against it before a run is created.

The schema is made once, when the flow is deployed (with pydantic, from the type
hints); runs are checked against the schema alone, so that a server, the command line
and the UI can check parameters without importing the flow's code. The check knows
the parts of JSON Schema that pydantic writes for parameters (types, ``anyOf``,
``enum``, ``$ref``, arrays, objects, dates) and accepts what it does not know: the
flow validates its parameters again when it runs.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import ParameterTypeError

if TYPE_CHECKING:
    from cadenza.flows import Flow

_JSON_TYPES = {
    "string": "text",
    "integer": "integer",
    "number": "number",
    "boolean": "true or false",
    "array": "list",
    "object": "mapping",
    "null": "null",
}


def parameter_schema(flow: Flow[Any, Any]) -> dict[str, Any]:
    """The JSON schema of the flow's parameters: an object with one property per
    parameter (its type, default, title), ``required`` naming those without a default.

    A parameter whose annotation pydantic cannot describe is described as any value.
    """
    from cadenza.engine.parameters import _type_hints

    hints = _type_hints(flow.fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    defs: dict[str, Any] = {}
    extra = False
    for name, p in flow.signature.parameters.items():
        if p.kind is p.VAR_KEYWORD:
            extra = True
            continue
        if p.kind is p.VAR_POSITIONAL:
            continue
        annotation = hints.get(name, Any) if p.annotation is not p.empty else Any
        prop = _property_schema(annotation, defs)
        prop["title"] = name.replace("_", " ").capitalize()
        prop["position"] = len(properties)
        if p.default is p.empty:
            required.append(name)
        else:
            default = _json_default(p.default)
            if default is not _NO_DEFAULT:
                prop["default"] = default
        properties[name] = prop
    schema: dict[str, Any] = {
        "title": "Parameters",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": extra,
    }
    if defs:
        schema["$defs"] = defs
    return schema


_NO_DEFAULT: Any = object()


def _json_default(value: Any) -> Any:
    from cadenza.engine.parameters import is_lossy, jsonable

    converted = jsonable(value)
    return _NO_DEFAULT if is_lossy(converted) else converted


def _property_schema(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if annotation is Any or annotation is object or isinstance(annotation, str):
        return {}
    try:
        from pydantic import ConfigDict, TypeAdapter

        adapter = TypeAdapter(annotation, config=_config(annotation, ConfigDict))
        schema = adapter.json_schema(ref_template="#/$defs/{model}")
    except Exception:
        return {}
    defs.update(schema.pop("$defs", {}))
    return dict(schema)


def _config(annotation: Any, config_dict: Any) -> Any:
    import dataclasses

    if isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or hasattr(annotation, "model_config")
    ):
        return None
    return config_dict(arbitrary_types_allowed=True)


# -- checking values --------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A parameter value written as text (``--param k=v``, a form field): its JSON value
    when it is JSON (``3``, ``true``, ``[1, 2]``, ``"x"``), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_assignments(
    items: list[str] | tuple[str, ...], option: str = "--param"
) -> dict[str, Any]:
    """``["month=3", "name=x"]`` as ``{"month": 3, "name": "x"}`` (see :func:`parse_value`).

    Raises:
        ParameterTypeError: an item has no ``=`` or no name.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterTypeError(
                f"{option} {item!r} is not of the form NAME=VALUE (e.g. {option} month=3)."
            )
        out[key.strip()] = parse_value(value)
    return out


def describe_type(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> str:
    """A short name of the type a schema allows: ``integer``, ``list of integer``..."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        return " or ".join(describe_type(o, root) for o in options)
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return f"list of {describe_type(items, root)}" if items else "list"
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        return {"date": "date (2024-01-31)", "date-time": "date-time (2024-01-31T09:00)"}[
            schema["format"]
        ]
    if isinstance(kind, str):
        return _JSON_TYPES.get(kind, kind)
    if "properties" in schema:
        return "mapping"
    return "any value"


def validate_parameters(
    schema: Mapping[str, Any], values: Mapping[str, Any], *, owner: str
) -> dict[str, Any]:
    """``values`` checked against a parameter schema, with text converted to the type
    it should be (``"3"`` for an integer becomes 3, ``3`` for a text becomes ``"3"``).

    ``values`` holds every parameter of the run (the deployment's defaults with the
    run's own over them); parameters with a default in the flow may be left out.

    Raises:
        ParameterTypeError: naming each parameter at fault, the type it takes, and
            the flow's parameters; its ``problems`` maps each name at fault to what
            is wrong with it (for forms).
    """
    properties: Mapping[str, Any] = schema.get("properties") or {}
    if not properties and not schema.get("required") and schema.get("additionalProperties", True):
        return dict(values)
    known = ", ".join(f"{n} ({describe_type(p, schema)})" for n, p in properties.items()) or "none"
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, value in values.items():
        prop = properties.get(name)
        if prop is None:
            if schema.get("additionalProperties", True) is False:
                import difflib

                close = difflib.get_close_matches(name, list(properties), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems[name] = f"unknown parameter {name!r}{hint}"
                continue
            out[name] = value
            continue
        ok, converted = _check(prop, value, schema)
        if not ok:
            problems[name] = (
                f"parameter {name!r} must be {describe_type(prop, schema)}, got {_short(value)}"
            )
            continue
        out[name] = converted
    for name in schema.get("required") or ():
        if name not in values:
            prop = properties.get(name, {})
            problems[name] = f"missing parameter {name!r} ({describe_type(prop, schema)})"
    if problems:
        error = ParameterTypeError(
            f"Invalid parameters for {owner}: "
            + "; ".join(problems.values())
            + f". Its parameters: {known}."
        )
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _resolve(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(schema, Mapping):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        found = (root.get("$defs") or {}).get(ref.rsplit("/", 1)[-1])
        if isinstance(found, Mapping):
            merged = {k: v for k, v in schema.items() if k != "$ref"}
            return {**found, **merged}
    return schema


def _check(schema: Any, value: Any, root: Mapping[str, Any]) -> tuple[bool, Any]:
    """Whether ``value`` fits ``schema``, and the value converted to fit it."""
    schema = _resolve(schema, root)
    if not schema:
        return True, value
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        # The exact type first (a number is not turned into text when a number is allowed).
        for strict in (True, False):
            for option in options:
                ok, converted = _check_one(_resolve(option, root), value, root, strict)
                if ok:
                    return True, converted
        return False, value
    return _check_one(schema, value, root, strict=False)


def _check_one(
    schema: Mapping[str, Any], value: Any, root: Mapping[str, Any], strict: bool
) -> tuple[bool, Any]:
    if "anyOf" in schema or "oneOf" in schema:
        return _check(schema, value, root)
    if "enum" in schema:
        if value in schema["enum"]:
            return True, value
        text = str(value)
        for option in schema["enum"]:
            if not strict and str(option) == text:
                return True, option
        return False, value
    if "const" in schema:
        return value == schema["const"], value
    kind = schema.get("type")
    if isinstance(kind, list):
        for k in kind:
            ok, converted = _check_one({**schema, "type": k}, value, root, strict)
            if ok:
                return True, converted
        return False, value
    checker = _CHECKERS.get(kind) if isinstance(kind, str) else None
    if checker is None:
        if "properties" in schema and isinstance(value, Mapping):
            return _check_object(schema, value, root, strict)
        return True, value
    return checker(schema, value, root, strict)


def _check_string(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if isinstance(value, str):
        fmt = schema.get("format")
        try:
            if fmt == "date":
                dt.date.fromisoformat(value)
            elif fmt == "date-time":
                dt.datetime.fromisoformat(value)
        except ValueError:
            return False, value
        return True, value
    if not strict and isinstance(value, int | float) and not isinstance(value, bool):
        if schema.get("format") in ("date", "date-time"):
            return False, value
        return True, str(value)
    return False, value


def _check_integer(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if isinstance(value, bool):
        return False, value
    if isinstance(value, int):
        return True, value
    if isinstance(value, float) and value.is_integer() and not strict:
        return True, int(value)
    if isinstance(value, str) and not strict:
        try:
            return True, int(value.strip())
        except ValueError:
            return False, value
    return False, value


def _check_number(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if isinstance(value, bool):
        return False, value
    if isinstance(value, int | float):
        return True, value
    if isinstance(value, str) and not strict:
        try:
            return True, float(value.strip())
        except ValueError:
            return False, value
    return False, value


def _check_boolean(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if isinstance(value, bool):
        return True, value
    if isinstance(value, str) and not strict and value.strip().lower() in ("true", "false"):
        return True, value.strip().lower() == "true"
    return False, value


def _check_null(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if value is None:
        return True, None
    if isinstance(value, str) and not strict and value.strip() in ("", "null"):
        return True, None
    return False, value


def _check_array(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if isinstance(value, str) and not strict:
        value = parse_value(value)
    if not isinstance(value, list | tuple):
        return False, value
    items = schema.get("items")
    if not items:
        return True, list(value)
    out = []
    for v in value:
        ok, converted = _check(items, v, root)
        if not ok:
            return False, value
        out.append(converted)
    return True, out


def _check_object(schema: Mapping[str, Any], value: Any, root: Any, strict: bool) -> Any:
    if isinstance(value, str) and not strict:
        value = parse_value(value)
    if not isinstance(value, Mapping):
        return False, value
    properties = schema.get("properties") or {}
    out = dict(value)
    for name in schema.get("required") or ():
        if name not in value:
            return False, value
    for name, v in value.items():
        if name in properties:
            ok, converted = _check(properties[name], v, root)
            if not ok:
                return False, value
            out[name] = converted
    return True, out


_CHECKERS: dict[str, Any] = {
    "string": _check_string,
    "integer": _check_integer,
    "number": _check_number,
    "boolean": _check_boolean,
    "null": _check_null,
    "array": _check_array,
    "object": _check_object,
}


def signature_parameters(flow: Flow[Any, Any]) -> list[str]:
    """The names of the flow's parameters, in order (``*args``, ``**kwargs`` left out)."""
    return [
        n
        for n, p in flow.signature.parameters.items()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
