"""What a param, metric or tag key and value may be, checked cheaply.

The checks run on the caller's thread for every fluent call, so the common case
costs a set lookup and a type check: a key that passed once is remembered.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cadenza.tracking.errors import InvalidTrackingValue

MAX_KEY_LENGTH = 250
MAX_PARAM_LENGTH = 6000
MAX_TAG_LENGTH = 8000
MAX_EXPERIMENT_NAME = 255
MAX_MILLISECONDS_GUESS = 1e11
"""A timestamp above this (the year 5138 in seconds) was surely given in milliseconds."""

_KEY = re.compile(r"[\w\-. /]+")
_valid_keys: set[str] = set()
_MAX_REMEMBERED = 100_000


def check_key(key: Any, what: str = "key") -> str:
    """``key`` if it is a valid param, metric or tag key.

    Raises:
        InvalidTrackingValue: not a non-empty str of at most 250 letters, digits,
            underscores, dashes, periods, spaces and slashes.
    """
    if key in _valid_keys:
        return key
    if not isinstance(key, str):
        raise InvalidTrackingValue(
            f"A {what} must be a str, not a {type(key).__name__} ({key!r:.80})."
        )
    if not key or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key) or key != key.strip():
        problem = (
            "is empty"
            if not key
            else f"is {len(key)} characters long (at most {MAX_KEY_LENGTH})"
            if len(key) > MAX_KEY_LENGTH
            else "starts or ends with a space"
            if key != key.strip()
            else "has characters other than letters, digits, '_', '-', '.', ' ' and '/'"
        )
        raise InvalidTrackingValue(
            f"The {what} {key[:80]!r} {problem}: use letters, digits, underscores, "
            "dashes, periods, spaces and slashes, such as 'rmse' or 'train/loss'."
        )
    if len(_valid_keys) < _MAX_REMEMBERED:
        _valid_keys.add(key)
    return key


def metric_value(value: Any, key: str) -> float:
    """``value`` as a float (ints, bools, NumPy numbers...; NaN and infinities too).

    Raises:
        InvalidTrackingValue: ``value`` is not a number.
    """
    if type(value) is float:
        return value
    if isinstance(value, str | bytes) or not hasattr(value, "__float__"):
        raise InvalidTrackingValue(
            f"The value of metric {key!r} must be a number, not a {type(value).__name__} "
            f"({value!r:.80}); log strings as params or tags."
        )
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidTrackingValue(
            f"The value of metric {key!r} is not a number ({value!r:.80}): {exc}"
        ) from None


def step_value(step: Any, key: str) -> int:
    """``step`` as an int (0 for None).

    Raises:
        InvalidTrackingValue: ``step`` is not an integer.
    """
    if step is None:
        return 0
    if type(step) is int:
        return step
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise InvalidTrackingValue(
            f"The step of metric {key!r} must be an int, not a {type(step).__name__} "
            f"({step!r:.80})."
        )
    return int(step.__index__())


def timestamp_value(timestamp: Any, key: str) -> float:
    """``timestamp`` in seconds since the epoch, as a float.

    Raises:
        InvalidTrackingValue: not a finite number, or one so large that it must be in
            milliseconds.
    """
    if isinstance(timestamp, str | bytes | bool) or not hasattr(timestamp, "__float__"):
        raise InvalidTrackingValue(
            f"The timestamp of metric {key!r} must be a number of seconds since the "
            f"epoch, not a {type(timestamp).__name__} ({timestamp!r:.80})."
        )
    ts = float(timestamp)
    if not math.isfinite(ts) or abs(ts) > MAX_MILLISECONDS_GUESS:
        raise InvalidTrackingValue(
            f"The timestamp {timestamp!r} of metric {key!r} is not in seconds since the "
            "epoch (milliseconds, as MLflow takes them? divide by 1000)."
        )
    return ts


def _text(value: Any, key: str, what: str, limit: int, instead: str) -> str:
    text = value if type(value) is str else str(value)
    if len(text) > limit:
        raise InvalidTrackingValue(
            f"The value of {what} {key!r} is {len(text)} characters long (at most "
            f"{limit}); {instead}."
        )
    return text


def param_value(value: Any, key: str) -> str:
    """``value`` as the string a param holds (``str(value)``).

    Raises:
        InvalidTrackingValue: longer than 6000 characters.
    """
    return _text(
        value, key, "param", MAX_PARAM_LENGTH, "log long texts with log_text or log_dict instead"
    )


def tag_value(value: Any, key: str) -> str:
    """``value`` as the string a tag holds (``str(value)``).

    Raises:
        InvalidTrackingValue: longer than 8000 characters.
    """
    return _text(value, key, "tag", MAX_TAG_LENGTH, "log long texts with log_text instead")


def experiment_name(name: Any) -> str:
    """``name`` if it can name an experiment.

    Raises:
        InvalidTrackingValue: not a non-empty str of at most 255 characters.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_EXPERIMENT_NAME:
        raise InvalidTrackingValue(
            f"An experiment name must be a non-empty str of at most {MAX_EXPERIMENT_NAME} "
            f"characters, not {name!r:.80}."
        )
    return name
