"""Durations written as text: ``90s``, ``10m``, ``2h``, ``1d``, ``1w``."""

from __future__ import annotations

import re

from cadenza.exceptions import CadenzaError

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class InvalidDuration(CadenzaError, ValueError):
    """A text is not a duration such as ``10m``."""


def match_duration(text: str) -> float | None:
    """The seconds of ``text`` (``90s``, ``10m``, ``2h``, ``1d``, ``1w``, or a plain
    number of seconds), or None when it is not a duration."""
    match = _DURATION_RE.match(text)
    if match is None:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_duration(text: str, *, what: str = "duration") -> float:
    """The seconds of a duration written as ``90s``, ``10m``, ``2h``, ``1d``, ``1w``
    or a number of seconds.

    Raises:
        InvalidDuration: ``text`` is not a duration; the message names ``what``.
    """
    seconds = match_duration(text) if isinstance(text, str) else None
    if seconds is None:
        raise InvalidDuration(
            f"{what} {text!r} is not a duration: give a number with a unit, such as "
            "90s, 10m, 2h, 1d or 1w (or a number of seconds)."
        )
    return seconds
