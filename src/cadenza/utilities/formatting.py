"""Formatting shared by the command line and the web UI."""

from __future__ import annotations

import datetime as _dt


def iso_utc(ts: float | None) -> str | None:
    """``ts`` (seconds since the epoch) as ISO-8601 in UTC, e.g. ``2026-01-31T08:00:00.250Z``."""
    if ts is None:
        return None
    moment = _dt.datetime.fromtimestamp(ts, tz=_dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_duration(seconds: float | None) -> str:
    """A short duration: ``850ms``, ``1.2s``, ``3m04s``, ``2h05m``, ``3d04h``; ``-`` if None."""
    if seconds is None:
        return "-"
    seconds = max(seconds, 0.0)
    if seconds < 0.001:
        return "<1ms"
    if seconds < 1:
        ms = round(seconds * 1000)
        return f"{ms}ms" if ms < 1000 else "1.0s"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"
