"""Automations: "when a flow run of these flows enters these states, notify these
channels".

An :class:`Automation` has a name, a trigger, the names of its channels, optional
subject and body templates, and an enabled flag. Its trigger is a
:class:`FlowRunStateTrigger`: the states (or events) to react to, and filters on
the flow's name, the run's deployment and the run's tags (within each filter, any
of the names given matches; filters left empty match every run).

Events are the names of states (``Completed``, ``Failed``, ``TimedOut``,
``Crashed``, ``Cancelled``, ``Late``, ``Running``...), of which a state type's own
name matches every state of that type (``Failed`` matches ``TimedOut`` too), and
``Recovered``: a run that completed after a failure, either its own (a failed run
resumed until it completed) or that of the previous run of the same flow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from cadenza.exceptions import InvalidNotificationConfig
from cadenza.notify.channels import check_name
from cadenza.notify.templates import check_template
from cadenza.runs import FlowRun
from cadenza.states import State, StateType

RECOVERED = "Recovered"
EVENTS = (
    "Completed",
    "Failed",
    "TimedOut",
    "Crashed",
    "Cancelled",
    "Late",
    RECOVERED,
    "Running",
    "Retrying",
    "Scheduled",
    "Pending",
    "Cancelling",
    "Paused",
)
"""The events an automation can react to."""
_BY_LOWER = {e.lower(): e for e in EVENTS}
_RECOVERED_FROM = (StateType.FAILED, StateType.CRASHED)


def normalize_events(states: Iterable[str] | str, owner: str = "trigger") -> tuple[str, ...]:
    """The events named in ``states`` (any case), in the order of :data:`EVENTS`.

    Raises:
        InvalidNotificationConfig: none given, or an unknown one.
    """
    if isinstance(states, str):
        states = [s for s in states.replace(",", " ").split() if s]
    found = []
    for s in states:
        event = _BY_LOWER.get(str(s).strip().lower())
        if event is None:
            raise InvalidNotificationConfig(
                f"{owner}: {s!r} is not an event to react to; use one of {', '.join(EVENTS)}."
            )
        found.append(event)
    if not found:
        raise InvalidNotificationConfig(
            f"{owner}: name the states to react to, among {', '.join(EVENTS)}."
        )
    return tuple(e for e in EVENTS if e in found)


def _names(owner: str, field: str, values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.split(",")
    out = []
    for v in values:
        if not isinstance(v, str):
            raise InvalidNotificationConfig(f"{owner}: {field} must be names, got {v!r}.")
        if v.strip():
            out.append(v.strip())
    return tuple(dict.fromkeys(out))


def state_events(state: State) -> set[str]:
    """The events a state is: its name and its type's name (``TimedOut``, ``Failed``)."""
    return {state.name, state.type.value.capitalize()}


@dataclasses.dataclass(frozen=True, init=False)
class FlowRunStateTrigger:
    """Fires when a flow run matching the filters enters one of ``states``.

    Args:
        states: events to react to (see :data:`EVENTS`), e.g. ``["Failed", "Recovered"]``.
        flows: only runs of these flows (by name).
        deployments: only runs of these deployments (by name).
        tags: only runs having one of these tags.
    """

    states: tuple[str, ...]
    flows: tuple[str, ...] = ()
    deployments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    type = "flow-run-state"

    def __init__(
        self,
        states: Iterable[str] | str,
        *,
        flows: Iterable[str] | str | None = None,
        deployments: Iterable[str] | str | None = None,
        tags: Iterable[str] | str | None = None,
    ) -> None:
        owner = "trigger"
        object.__setattr__(self, "states", normalize_events(states, owner))
        object.__setattr__(self, "flows", _names(owner, "flows", flows))
        object.__setattr__(self, "deployments", _names(owner, "deployments", deployments))
        object.__setattr__(self, "tags", _names(owner, "tags", tags))

    def matches_run(self, run: FlowRun, deployment: str | None = None) -> bool:
        """Whether the run passes the filters (whatever its state). ``deployment`` is
        the run's deployment as ``flow/name``; a filter may name it so or by ``name``."""
        return _matches(self, run, deployment)

    def event_for(self, events: set[str]) -> str | None:
        """The event to notify of, among those a transition is, or None: the most
        specific one (``Recovered`` before ``Completed``, ``TimedOut`` before
        ``Failed``)."""
        wanted = [e for e in self.states if e in events]
        if not wanted:
            return None
        if RECOVERED in wanted:
            return RECOVERED
        return min(wanted, key=lambda e: (e.upper() in StateType.__members__, EVENTS.index(e)))

    def describe(self) -> str:
        return _describe(self, f"when a flow run enters {' or '.join(self.states)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "states": list(self.states),
            "flows": list(self.flows),
            "deployments": list(self.deployments),
            "tags": list(self.tags),
        }


def _matches(
    trigger: FlowRunStateTrigger | NotCompletedTrigger, run: FlowRun, deployment: str | None
) -> bool:
    if trigger.flows and run.flow_name not in trigger.flows:
        return False
    if trigger.deployments:
        if deployment is None:
            return False
        short = deployment.split("/", 1)[-1]
        if deployment not in trigger.deployments and short not in trigger.deployments:
            return False
    return not (trigger.tags and not set(trigger.tags) & set(run.tags))


def _describe(trigger: FlowRunStateTrigger | NotCompletedTrigger, head: str) -> str:
    """``head`` and the trigger's filters, in words."""
    filters = [
        f"{label} {' or '.join(values)}"
        for label, values in (
            ("flow", trigger.flows),
            ("deployment", trigger.deployments),
            ("tag", trigger.tags),
        )
        if values
    ]
    return head + (f" ({'; '.join(filters)})" if filters else "")


NOT_COMPLETED = "NotCompleted"


@dataclasses.dataclass(frozen=True, init=False)
class NotCompletedTrigger:
    """Fires when a scheduled flow run has not completed ``within`` seconds of the
    time it was scheduled for (a proactive trigger: it fires on something that did
    not happen). Evaluated by the server, which runs all the time.

    Args:
        within: seconds after the scheduled time (``hours=6`` reads better).
        hours: the same, in hours.
        flows, deployments, tags: filters, as for :class:`FlowRunStateTrigger`.
    """

    within: float
    flows: tuple[str, ...] = ()
    deployments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    type = "not-completed"
    states: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        within: float | None = None,
        *,
        hours: float | None = None,
        flows: Iterable[str] | str | None = None,
        deployments: Iterable[str] | str | None = None,
        tags: Iterable[str] | str | None = None,
    ) -> None:
        owner = "not-completed trigger"
        if (within is None) == (hours is None):
            raise InvalidNotificationConfig(f"{owner}: give either within (seconds) or hours.")
        seconds = within if within is not None else float(hours or 0) * 3600
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise InvalidNotificationConfig(
                f"{owner}: the delay must be a positive number, got {within or hours!r}."
            )
        object.__setattr__(self, "within", float(seconds))
        object.__setattr__(self, "flows", _names(owner, "flows", flows))
        object.__setattr__(self, "deployments", _names(owner, "deployments", deployments))
        object.__setattr__(self, "tags", _names(owner, "tags", tags))

    def matches_run(self, run: FlowRun, deployment: str | None = None) -> bool:
        return _matches(self, run, deployment)

    def event_for(self, events: set[str]) -> str | None:
        """State changes do not fire this trigger."""
        return None

    def describe(self) -> str:
        from cadenza.utilities.formatting import format_duration

        return _describe(
            self,
            f"when a scheduled flow run has not completed {format_duration(self.within)} "
            "after its scheduled time",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "within": self.within,
            "flows": list(self.flows),
            "deployments": list(self.deployments),
            "tags": list(self.tags),
        }


Trigger = FlowRunStateTrigger | NotCompletedTrigger
_FIELDS = {
    FlowRunStateTrigger.type: {"type", "states", "flows", "deployments", "tags"},
    NotCompletedTrigger.type: {"type", "within", "flows", "deployments", "tags"},
}


def trigger_from_dict(data: Mapping[str, Any]) -> Trigger:
    """A trigger from its JSON form (its ``to_dict()``).

    Raises:
        InvalidNotificationConfig: an unknown type or invalid values.
    """
    if not isinstance(data, Mapping):
        raise InvalidNotificationConfig("A trigger is an object with a type and its fields.")
    kind = data.get("type", FlowRunStateTrigger.type)
    if kind not in _FIELDS:
        raise InvalidNotificationConfig(
            f"Unknown trigger type {kind!r}; the types are {', '.join(_FIELDS)}."
        )
    # Fields of the other type are accepted empty (the API's JSON has every field).
    unknown = {k for k in set(data) - _FIELDS[kind] if data[k] not in (None, [], ())}
    if unknown:
        raise InvalidNotificationConfig(f"A {kind} trigger has no field {sorted(unknown)[0]!r}.")
    filters = {
        "flows": data.get("flows"),
        "deployments": data.get("deployments"),
        "tags": data.get("tags"),
    }
    if kind == NotCompletedTrigger.type:
        return NotCompletedTrigger(data.get("within"), **filters)
    return FlowRunStateTrigger(data.get("states") or [], **filters)


class Automation:
    """When ``trigger`` fires, send a message to each of ``channels``.

    Args:
        name: the automation's name.
        trigger: what it reacts to.
        channels: names of the channels to notify.
        subject: a template of the subject (default: flow, run and event).
        body: a template of the body (default: what happened, the error, the
            duration and a link to the run).
        enabled: disabled automations do nothing.
        description: shown in listings.

    Raises:
        InvalidNotificationConfig: an invalid name, no channel, or a template that
            does not render.
    """

    def __init__(
        self,
        name: str,
        trigger: Trigger,
        channels: Sequence[str] | str,
        *,
        subject: str | None = None,
        body: str | None = None,
        enabled: bool = True,
        description: str | None = None,
    ) -> None:
        self.name = check_name("automation", name)
        if not isinstance(trigger, FlowRunStateTrigger | NotCompletedTrigger):
            raise InvalidNotificationConfig(
                f"automation {name!r}: trigger must be a FlowRunStateTrigger or a "
                f"NotCompletedTrigger, got {trigger!r}."
            )
        self.trigger = trigger
        names = _names(f"automation {name!r}", "channels", channels)
        if not names:
            raise InvalidNotificationConfig(
                f"automation {name!r}: give at least one channel to notify."
            )
        self.channels = tuple(check_name("channel", c) for c in names)
        self.subject = check_template(subject or None, "subject")
        self.body = check_template(body or None, "body")
        self.enabled = bool(enabled)
        self.description = description or None
        self.id: str | None = None
        """Set when the automation is stored."""
        self.created: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form, as the API gives it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "trigger": self.trigger.to_dict(),
            "channels": list(self.channels),
            "subject": self.subject,
            "body": self.body,
            "created": self.created,
            "summary": self.trigger.describe() + ", notify " + ", ".join(self.channels),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Automation:
        """An automation from its JSON form (ids and times kept when present)."""
        made = cls(
            data["name"],
            trigger_from_dict(data["trigger"]),
            data.get("channels") or [],
            subject=data.get("subject"),
            body=data.get("body"),
            enabled=data.get("enabled", True),
            description=data.get("description"),
        )
        made.id = data.get("id")
        made.created = data.get("created")
        return made

    def __repr__(self) -> str:
        state = "" if self.enabled else ", disabled"
        return f"Automation(name={self.name!r}, {self.trigger.describe()}{state})"


def transition_events(run: FlowRun, state: State, previous_final: State | None) -> set[str]:
    """What entering ``state`` is for ``run``: the state's own events, and
    ``Recovered`` for a completion after a failure.

    ``previous_final`` is the final state of the previous run of the same flow, if
    any; the run's own history (when loaded) tells whether it was resumed after a
    failure.
    """
    events = state_events(state)
    if state.type is not StateType.COMPLETED:
        return events
    earlier = [s for s in run.history or () if s.timestamp < state.timestamp]
    failed_before = any(s.type in _RECOVERED_FROM for s in earlier)
    if not failed_before and not any(s.type is StateType.COMPLETED for s in earlier):
        failed_before = previous_final is not None and previous_final.type in _RECOVERED_FROM
    if failed_before:
        events.add(RECOVERED)
    return events
