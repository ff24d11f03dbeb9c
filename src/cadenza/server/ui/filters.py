"""The filters of the flow runs list, read from the query string, and its cursor pages.

Pages are newest first. A page is either the runs created before the ``before``
cursor (the id of the last run of the newer page: "Older") or the runs created
after the ``after`` cursor (the id of the first run of the older page: "Newer",
listed oldest first by the store and turned around). No page counts or skips rows.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from collections.abc import Sequence
from urllib.parse import urlencode

from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter

STATE_NAMES = ("Cached", "TimedOut", "Retrying", "AwaitingRetry", "Late")
"""State names offered in the filter besides the state types."""

SPANS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}


class BadFilter(ValueError):
    """A filter value that cannot be understood; the message says what is allowed."""


def parse_time(value: str, field: str) -> float:
    """Seconds since the epoch from ``2026-01-31``, ``2026-01-31T08:00`` (UTC unless
    an offset is given) or ``...Z``."""
    try:
        moment = _dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadFilter(
            f"{field!r} must be a date or date-time in UTC, like 2026-01-31 or "
            f"2026-01-31T08:00; got {value!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


def time_input(ts: float) -> str:
    """A time as the value of a ``datetime-local`` input, in UTC."""
    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M")


@dataclasses.dataclass(slots=True)
class RunsQuery:
    """What the runs list was asked for, as given (to fill in the form and the links)."""

    flow: str = ""
    states: list[str] = dataclasses.field(default_factory=list)
    tag: str = ""
    span: str = ""
    start: str = ""
    end: str = ""
    top_level: bool = False
    before: str = ""
    after: str = ""

    @classmethod
    def from_params(
        cls,
        *,
        flow: str | None,
        state: Sequence[str] | None,
        tag: str | None,
        span: str | None,
        start: str | None,
        end: str | None,
        top: str | None,
        before: str | None,
        after: str | None,
    ) -> RunsQuery:
        return cls(
            flow=(flow or "").strip(),
            states=[s for s in (state or []) if s],
            tag=(tag or "").strip(),
            span=(span or "").strip(),
            start=(start or "").strip(),
            end=(end or "").strip(),
            top_level=top in ("1", "on", "true"),
            before=(before or "").strip(),
            after="" if before else (after or "").strip(),
        )

    def to_filter(self, now: float | None = None) -> FlowRunFilter:
        """The store filter; raises :class:`BadFilter` for values it cannot use."""
        types: list[StateType] = []
        names: list[str] = []
        for s in self.states:
            if s in StateType.__members__:
                types.append(StateType(s))
            elif s in STATE_NAMES:
                names.append(s)
            else:
                allowed = ", ".join([*StateType.__members__, *STATE_NAMES])
                raise BadFilter(f"Unknown state {s!r}; use one of {allowed}.")
        since = until = None
        if self.span:
            if self.span not in SPANS:
                raise BadFilter(f"Unknown time span {self.span!r}; use one of {', '.join(SPANS)}.")
            since = (time.time() if now is None else now) - SPANS[self.span]
        if self.start:
            since = max(since or 0.0, parse_time(self.start, "from"))
        if self.end:
            until = parse_time(self.end, "to")
        tags = [t.strip() for t in self.tag.split(",") if t.strip()]
        return FlowRunFilter(
            flow_name=self.flow or None,
            state_types=types or None,
            state_names=names or None,
            tags=tags or None,
            since=since,
            until=until,
            top_level_only=self.top_level,
        )

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.flow or self.states or self.tag or self.span or self.start or self.end
        ) or (self.top_level)

    def _params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if self.flow:
            params.append(("flow", self.flow))
        params.extend(("state", s) for s in self.states)
        for key, value in (
            ("tag", self.tag),
            ("span", self.span),
            ("from", self.start),
            ("to", self.end),
        ):
            if value:
                params.append((key, value))
        if self.top_level:
            params.append(("top", "1"))
        return params

    def url(self, *, before: str = "", after: str = "") -> str:
        """``/runs`` with these filters, at the page of ``before`` or ``after``."""
        params = self._params()
        if before:
            params.append(("before", before))
        elif after:
            params.append(("after", after))
        return "/runs" + (f"?{urlencode(params)}" if params else "")
