"""What the registry accepts as model names, aliases, tag keys and versions."""

from __future__ import annotations

import re
from typing import Any

from cadenza.exceptions import InvalidModelError

MAX_NAME = 255
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,254}")
_VERSION_LIKE = re.compile(r"[vV]\d+")


def model_name(name: Any) -> str:
    """``name`` if it is a valid registered model name.

    Raises:
        InvalidModelError: it is not (the message says why and what is allowed).
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidModelError(
            f"A registered model name must be a non-empty string, not {name!r}.", field="name"
        )
    problem = None
    if len(name) > MAX_NAME:
        problem = f"is {len(name)} characters long (at most {MAX_NAME})"
    elif name != name.strip():
        problem = "starts or ends with a space"
    elif any(c in name for c in "/@:"):
        problem = "holds '/', '@' or ':', which model URIs use"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "holds a control character"
    if problem:
        raise InvalidModelError(
            f"The model name {name!r} {problem}. Use letters, digits, spaces, '.', '_' "
            "and '-' (for example 'taxi-duration').",
            field="name",
        )
    return name


def alias(value: Any) -> str:
    """``value`` if it is a valid alias (``champion``, ``challenger``, ``prod_2``...).

    Raises:
        InvalidModelError: it is not.
    """
    text = value if isinstance(value, str) else ""
    if not _ALIAS.fullmatch(text) or _VERSION_LIKE.fullmatch(text) or text.lower() == "latest":
        raise InvalidModelError(
            f"{value!r} is not a valid alias: use letters, digits, '_' and '-', starting "
            "with a letter or '_', and neither 'latest' nor 'v' and a number (those read "
            "as versions in models:/ URIs).",
            field="alias",
        )
    return text


def tag_key(key: Any) -> str:
    """``key`` if it is a valid tag key (1 to 255 characters).

    Raises:
        InvalidModelError: it is not.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_NAME:
        raise InvalidModelError(
            f"A tag key must be a string of 1 to {MAX_NAME} characters, not {key!r}.",
            field="key",
        )
    return key


def tags(values: Any) -> dict[str, str]:
    """``values`` (a mapping or None) as a dict of valid keys to string values."""
    if values is None:
        return {}
    if not hasattr(values, "items"):
        raise InvalidModelError(
            f"Tags must be a mapping of keys to values, not {type(values).__name__}.",
            field="tags",
        )
    return {tag_key(k): str(v) for k, v in values.items()}


def version(value: Any) -> int:
    """A version number given as an int or a string (``3``, ``"3"``).

    Raises:
        InvalidModelError: it is not a positive whole number.
    """
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        number = 0
    if number < 1:
        raise InvalidModelError(
            f"{value!r} is not a model version: versions are whole numbers from 1.",
            field="version",
        )
    return number
