"""The run-now form of a deployment page, made from the deployment's parameter schema,
and reading its values back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from cadenza.deploy.parameters import describe_type, parse_value


@dataclasses.dataclass
class Field:
    """One input of the form."""

    name: str
    label: str
    kind: str
    """``integer``, ``number``, ``text``, ``checkbox``, ``select``, ``date``,
    ``datetime`` or ``json`` (lists, mappings, unions, anything else)."""
    value: str
    required: bool
    help: str
    options: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None
    checked: bool = False


def _resolve(prop: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    if isinstance(ref, str):
        found = (schema.get("$defs") or {}).get(ref.rsplit("/", 1)[-1])
        if isinstance(found, Mapping):
            return found
    return prop


def _kind(prop: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    prop = _resolve(prop, schema)
    options = prop.get("anyOf")
    if options and len(options) == 2 and {"type": "null"} in options:
        (other,) = [o for o in options if o != {"type": "null"}]
        return _kind(other, schema)
    if "enum" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "string":
        return {"date": "date", "date-time": "datetime"}.get(prop.get("format", ""), "text")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return str(kind)
    return "json"


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("json",) or not isinstance(value, str | int | float | bool):
        return json.dumps(value)
    return str(value)


def parameter_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    entered: Mapping[str, str] | None = None,
) -> list[Field]:
    """The inputs for the parameters of ``schema``, filled with ``values`` (the
    deployment's defaults, else the flow's), or with what was ``entered`` when the
    form comes back with ``errors``."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    errors = errors or {}
    out = []
    for name, prop in properties.items():
        kind = _kind(prop, schema)
        default = values.get(name, prop.get("default"))
        if entered is not None:
            text = entered.get(name, "")
            checked = text in ("true", "on")
        else:
            text = _text(default, kind)
            checked = default is True
        resolved = _resolve(prop, schema)
        options = [str(o) for o in resolved.get("enum", [])] if kind == "select" else []
        out.append(
            Field(
                name=name,
                label=str(prop.get("title") or name),
                kind=kind,
                value=text,
                required=name in required and name not in values,
                help=describe_type(prop, schema),
                options=options,
                error=errors.get(name),
                checked=checked,
            )
        )
    return out


def read_form(
    schema: Mapping[str, Any], form: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters a submitted form gives (empty inputs are left out, so that the
    defaults apply), and the texts entered (to show them again)."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    values: dict[str, Any] = {}
    entered: dict[str, str] = {}
    for name, prop in properties.items():
        kind = _kind(prop, schema)
        key = f"param.{name}"
        if kind == "checkbox":
            checked = form.get(key) in ("true", "on")
            entered[name] = "true" if checked else "false"
            values[name] = checked
            continue
        text = form.get(key, "")
        entered[name] = text
        if text.strip() == "":
            continue
        values[name] = parse_value(text) if kind == "json" else text
    return values, entered
