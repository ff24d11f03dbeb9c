"""Schedules of deployments: cron, interval and RRULE, in a timezone, across DST.

Each schedule is a value object that checks itself when it is made (a bad cron
string names the field that is wrong) and answers :meth:`Schedule.next_times`.

How daylight saving time is handled, in the schedule's timezone:

* **Cron** and **RRULE** are wall-clock schedules: ``30 2 * * *`` means 02:30 local
  time every day. On the day the clocks go forward, a time that does not exist
  (02:30 in Europe/Zurich on the last Sunday of March) runs at the same distance
  after the change (03:30 CEST, one hour after 01:30 CET). On the day the clocks
  go back, a time that happens twice runs once, at its first occurrence, unless
  the cron's hour field is ``*``: an hourly schedule then runs in both hours, so
  that it keeps running every hour in absolute time.
* An **interval** that is a whole number of days keeps the local wall time of its
  anchor (every day at 09:00, before and after the change); any other interval is
  absolute (every hour is every 3,600 seconds, whatever the clocks do).

croniter and python-dateutil are imported when a schedule is made, not when
cadenza is imported.
"""

from __future__ import annotations

import abc
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadenza.exceptions import ScheduleError

_DAY = 86_400.0
_DEFAULT_ANCHOR = dt.datetime(2020, 1, 1)
"""Where intervals and RRULEs without a start of their own count from (local time)."""
_CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_CRON_RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-6 or SUN-SAT")
_MAX_TIMES = 100_000
"""At most this many times from one call of :meth:`Schedule.next_times`."""
_MARGIN = dt.timedelta(hours=3)
"""Wall-clock times are computed from a little before the window, for DST shifts."""


def zone(name: str) -> ZoneInfo:
    """The timezone called ``name`` (an IANA name such as ``Europe/Zurich``).

    Raises:
        ScheduleError: no timezone has this name.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(
            f"Unknown timezone {name!r}: give an IANA name such as 'Europe/Zurich', "
            "'America/New_York' or 'UTC'."
        ) from None


def to_datetime(value: dt.datetime | float, tz: dt.tzinfo) -> dt.datetime:
    """``value`` (seconds since the epoch, or a datetime) as an aware datetime in ``tz``;
    a naive datetime is taken as local time of ``tz``."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)
    return dt.datetime.fromtimestamp(value, tz)


def _epoch(value: dt.datetime | float, tz: dt.tzinfo) -> float:
    return to_datetime(value, tz).timestamp() if isinstance(value, dt.datetime) else float(value)


def _localize(naive: dt.datetime, tz: dt.tzinfo, *, both_folds: bool) -> list[float]:
    """The instants of a local wall-clock time: one, or two for a time that happens
    twice when ``both_folds`` (otherwise its first occurrence only)."""
    first = naive.replace(tzinfo=tz, fold=0)
    out = [first.timestamp()]
    if both_folds:
        second = naive.replace(tzinfo=tz, fold=1)
        if second.utcoffset() != first.utcoffset():
            out.append(second.timestamp())
    return out


class Schedule(abc.ABC):
    """When a deployment runs. Make one with :class:`Cron`, :class:`Interval` or
    :class:`RRule`."""

    kind: ClassVar[str]
    timezone: str

    @abc.abstractmethod
    def _instants(self, start: float, end: float, limit: int) -> list[float]:
        """The times of the schedule in ``[start, end)``, as epoch seconds, sorted;
        it may stop after ``limit`` of them."""

    def next_times(
        self, after: dt.datetime | float, until: dt.datetime | float, *, limit: int | None = None
    ) -> list[dt.datetime]:
        """The times of the schedule at or after ``after`` and before ``until``, oldest
        first, at most ``limit``, as aware datetimes in the schedule's timezone.

        ``after`` and ``until`` are datetimes (naive ones are local time of the
        schedule's timezone) or seconds since the epoch. Returns an empty list when
        ``until`` is not after ``after``.
        """
        tz = zone(self.timezone)
        start, end = _epoch(after, tz), _epoch(until, tz)
        if end <= start:
            return []
        cap = _MAX_TIMES if limit is None else max(limit, 0)
        times = sorted(set(self._instants(start, end, cap)))[:cap]
        return [dt.datetime.fromtimestamp(t, tz) for t in times]

    @abc.abstractmethod
    def expression(self) -> str:
        """The stored form: the cron string, the interval in seconds, the RRULE text."""

    def anchor(self) -> float | None:
        """The stored anchor (intervals only)."""
        return None

    @abc.abstractmethod
    def describe(self) -> str:
        """A short text for people: ``cron 0 9 3 * * (Europe/Zurich)``."""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as in ``cadenza.yaml`` and the API (see :func:`schedule_from_dict`)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return (self.kind, self.expression(), self.anchor(), self.timezone) == (
            other.kind,
            other.expression(),
            other.anchor(),
            other.timezone,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.expression(), self.anchor(), self.timezone))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"


class Cron(Schedule):
    """A cron schedule of 5 fields (minute, hour, day of month, month, day of week),
    or a macro such as ``@daily``, on the wall clock of ``timezone``.

    Raises:
        ScheduleError: the expression or the timezone is invalid; the message names
            the field that is wrong and what it allows.
    """

    kind = "cron"

    def __init__(self, cron: str, timezone: str = "UTC") -> None:
        if not isinstance(cron, str) or not cron.strip():
            raise ScheduleError(
                "A cron schedule needs an expression of 5 fields, e.g. '0 9 * * *' "
                "(minute hour day-of-month month day-of-week)."
            )
        self.cron = " ".join(cron.split())
        self.timezone = timezone
        zone(timezone)
        _check_cron(self.cron)
        fields = self.cron.split()
        self._hourly = self.cron == "@hourly" or (len(fields) == 5 and fields[1] in ("*", "*/1"))

    def _instants(self, start: float, end: float, limit: int) -> list[float]:
        from croniter import croniter

        tz = zone(self.timezone)
        first = dt.datetime.fromtimestamp(start, tz).replace(tzinfo=None) - _MARGIN
        last = dt.datetime.fromtimestamp(end, tz).replace(tzinfo=None) + _MARGIN
        it = croniter(self.cron, first)
        out: list[float] = []
        while True:
            naive: dt.datetime = it.get_next(dt.datetime)
            if naive >= last or len(out) >= limit:
                return out
            for t in _localize(naive, tz, both_folds=self._hourly):
                if start <= t < end:
                    out.append(t)

    def expression(self) -> str:
        return self.cron

    def describe(self) -> str:
        return f"cron {self.cron} ({self.timezone})"

    def to_dict(self) -> dict[str, Any]:
        return {"cron": self.cron, "timezone": self.timezone}


def _check_cron(cron: str) -> None:
    from croniter import croniter

    if cron.startswith("@"):
        if not croniter.is_valid(cron):
            raise ScheduleError(
                f"Cron expression {cron!r} is not valid: the macros are @yearly, "
                "@annually, @monthly, @weekly, @daily, @midnight and @hourly."
            )
        return
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"Cron expression {cron!r} has {len(fields)} field(s); it needs 5: minute, "
            "hour, day of month, month and day of week (e.g. '0 9 3 * *' for 09:00 on "
            "the 3rd of every month)."
        )
    for i, value in enumerate(fields):
        probe = " ".join(value if j == i else "*" for j in range(5))
        if not croniter.is_valid(probe):
            raise ScheduleError(
                f"Cron expression {cron!r}: the {_CRON_FIELDS[i]} field {value!r} is not "
                f"valid; it takes values in {_CRON_RANGES[i]}, '*', lists (1,15), "
                "ranges (1-5) and steps (*/10)."
            )
    if not croniter.is_valid(cron):
        raise ScheduleError(f"Cron expression {cron!r} is not valid.")


class Interval(Schedule):
    """Every ``interval`` (seconds or a timedelta), counted from ``anchor_date``.

    An interval of whole days keeps the anchor's local wall time in ``timezone``
    across DST changes; any other interval is absolute. Without an anchor, intervals
    count from 2020-01-01 00:00 local time.

    Raises:
        ScheduleError: the interval is not positive, or the timezone is unknown.
    """

    kind = "interval"

    def __init__(
        self,
        interval: float | dt.timedelta,
        anchor_date: dt.datetime | float | None = None,
        timezone: str = "UTC",
    ) -> None:
        seconds = interval.total_seconds() if isinstance(interval, dt.timedelta) else interval
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ScheduleError(
                f"An interval is a number of seconds or a timedelta, got {interval!r}."
            )
        if not math.isfinite(seconds) or seconds <= 0:
            raise ScheduleError(f"An interval must be more than 0 seconds, got {interval!r}.")
        self.seconds = float(seconds)
        self.timezone = timezone
        tz = zone(timezone)
        anchor = _DEFAULT_ANCHOR if anchor_date is None else anchor_date
        self.anchor_epoch = _epoch(anchor, tz)
        self._days = int(self.seconds // _DAY) if self.seconds % _DAY == 0 else 0

    def _instants(self, start: float, end: float, limit: int) -> list[float]:
        anchor, step = self.anchor_epoch, self.seconds
        out: list[float] = []
        if not self._days:
            k = max(math.ceil((start - anchor) / step), 0)
            t = anchor + k * step
            while t < end and len(out) < limit:
                out.append(t)
                k += 1
                t = anchor + k * step
            return out
        tz = zone(self.timezone)
        local = dt.datetime.fromtimestamp(anchor, tz).replace(tzinfo=None)
        # Days between the anchor and the window's start, a little early for DST.
        k = max(math.floor((start - anchor) / _DAY / self._days) - 1, 0)
        while True:
            naive = local + dt.timedelta(days=k * self._days)
            (t,) = _localize(naive, tz, both_folds=False)
            if t >= end or len(out) >= limit:
                return out
            if t >= start:
                out.append(t)
            k += 1

    def expression(self) -> str:
        return _number(self.seconds)

    def anchor(self) -> float | None:
        return self.anchor_epoch

    def describe(self) -> str:
        from cadenza.utilities.formatting import format_duration

        since = to_datetime(self.anchor_epoch, zone(self.timezone)).isoformat()
        return f"every {format_duration(self.seconds)} from {since} ({self.timezone})"

    def to_dict(self) -> dict[str, Any]:
        since = to_datetime(self.anchor_epoch, zone(self.timezone)).isoformat()
        return {"interval": self.seconds, "anchor_date": since, "timezone": self.timezone}


class RRule(Schedule):
    """An iCalendar recurrence rule (RFC 5545), e.g. ``FREQ=MONTHLY;BYMONTHDAY=3;BYHOUR=9``,
    on the wall clock of ``timezone``. A ``DTSTART`` in the text sets where it starts;
    without one it starts on 2020-01-01 00:00 local time (which sets the minute and
    second of rules that do not give them).

    Raises:
        ScheduleError: the rule or the timezone is invalid.
    """

    kind = "rrule"

    def __init__(self, rrule: str, timezone: str = "UTC") -> None:
        if not isinstance(rrule, str) or not rrule.strip():
            raise ScheduleError("An RRULE schedule needs a rule, e.g. 'FREQ=DAILY;BYHOUR=9'.")
        self.rrule = rrule.strip()
        self.timezone = timezone
        self._rule = self._parse(zone(timezone))

    def _parse(self, tz: dt.tzinfo) -> Any:
        from dateutil import rrule as du

        text = self.rrule
        if not text.upper().startswith(("RRULE:", "DTSTART", "FREQ=")) and "\n" not in text:
            raise ScheduleError(
                f"RRULE {text!r} is not valid: it must start with FREQ= (or RRULE: or "
                "DTSTART:), e.g. 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0'."
            )
        try:
            rule = du.rrulestr(text, dtstart=_DEFAULT_ANCHOR, forceset=True)
        except (ValueError, TypeError, KeyError) as exc:
            raise ScheduleError(
                f"RRULE {text!r} is not valid ({exc}); see RFC 5545, e.g. "
                "'FREQ=MONTHLY;BYMONTHDAY=3;BYHOUR=9;BYMINUTE=0'."
            ) from None
        parts: list[Any] = rule._rrule  # type: ignore[attr-defined]
        starts = [r._dtstart for r in parts]
        if any(s is not None and s.tzinfo is not None for s in starts):
            # A DTSTART with a timezone: the same rule on local times of ``timezone``.
            local = [None if s is None else s.astimezone(tz).replace(tzinfo=None) for s in starts]
            rebuilt = du.rruleset()
            for r, start in zip(parts, local, strict=True):
                rebuilt.rrule(r.replace(dtstart=start, until=_naive(r._until, tz)))
            rule = rebuilt
        return rule

    def _instants(self, start: float, end: float, limit: int) -> list[float]:
        tz = zone(self.timezone)
        first = dt.datetime.fromtimestamp(start, tz).replace(tzinfo=None) - _MARGIN
        last = dt.datetime.fromtimestamp(end, tz).replace(tzinfo=None) + _MARGIN
        out: list[float] = []
        for naive in self._rule.xafter(first, inc=True):
            if naive >= last or len(out) >= limit:
                break
            for t in _localize(naive, tz, both_folds=False):
                if start <= t < end:
                    out.append(t)
        return out

    def expression(self) -> str:
        return self.rrule

    def describe(self) -> str:
        return f"rrule {self.rrule} ({self.timezone})"

    def to_dict(self) -> dict[str, Any]:
        return {"rrule": self.rrule, "timezone": self.timezone}


def _naive(value: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(tz).replace(tzinfo=None)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def schedule_from_parts(
    kind: str, expression: str, anchor: float | None, timezone: str
) -> Schedule:
    """A schedule from its stored form (see :meth:`Schedule.expression`).

    Raises:
        ScheduleError: the parts do not make a valid schedule.
    """
    if kind == "cron":
        return Cron(expression, timezone)
    if kind == "interval":
        try:
            seconds = float(expression)
        except ValueError:
            raise ScheduleError(f"Interval {expression!r} is not a number of seconds.") from None
        return Interval(seconds, anchor, timezone)
    if kind == "rrule":
        return RRule(expression, timezone)
    raise ScheduleError(f"Unknown schedule kind {kind!r}: use cron, interval or rrule.")


_KEYS = {"cron", "interval", "rrule"}
_OPTIONS = {"timezone", "anchor_date", "active"}


def schedule_from_dict(d: Mapping[str, Any]) -> tuple[Schedule, bool]:
    """A schedule and whether it is active, from its JSON form.

    The form is one of ``{"cron": "0 9 * * *"}``, ``{"interval": 300, "anchor_date":
    "2024-01-01T00:00:00"}`` (seconds, or text such as ``"10m"``) or ``{"rrule":
    "FREQ=DAILY"}``, each with an optional ``timezone`` (default UTC) and ``active``
    (default true).

    Raises:
        ScheduleError: the form is not one of these, or its values are invalid.
    """
    if not isinstance(d, Mapping):
        raise ScheduleError(f"A schedule is a mapping such as {{'cron': '0 9 * * *'}}, got {d!r}.")
    kinds = _KEYS & set(d)
    if len(kinds) != 1:
        raise ScheduleError(
            f"A schedule has exactly one of 'cron', 'interval' or 'rrule'; got {dict(d)!r}."
        )
    unknown = set(d) - _KEYS - _OPTIONS
    if unknown:
        raise ScheduleError(
            f"Unknown schedule key(s) {', '.join(sorted(unknown))}; a schedule takes "
            "cron, interval or rrule, and timezone, anchor_date, active."
        )
    timezone = d.get("timezone") or "UTC"
    if not isinstance(timezone, str):
        raise ScheduleError(f"A schedule's timezone is a name such as 'UTC', got {timezone!r}.")
    active = d.get("active", True)
    if not isinstance(active, bool):
        raise ScheduleError(f"A schedule's 'active' is true or false, got {active!r}.")
    (kind,) = kinds
    schedule: Schedule
    if kind == "cron":
        schedule = Cron(d["cron"], timezone)
    elif kind == "rrule":
        schedule = RRule(d["rrule"], timezone)
    else:
        interval = d["interval"]
        if isinstance(interval, str):
            from cadenza.utilities.durations import parse_duration

            interval = parse_duration(interval, what="interval")
        anchor = d.get("anchor_date")
        if isinstance(anchor, str):
            try:
                anchor = dt.datetime.fromisoformat(anchor)
            except ValueError:
                raise ScheduleError(
                    f"anchor_date {anchor!r} is not an ISO date, e.g. '2024-01-01T09:00:00'."
                ) from None
        elif isinstance(anchor, dt.date) and not isinstance(anchor, dt.datetime):
            anchor = dt.datetime.combine(anchor, dt.time())
        schedule = Interval(interval, anchor, timezone)
    return schedule, active
