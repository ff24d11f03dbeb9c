"""The JSON form of events, as a client sends them to a server.

``encode_events`` runs in the reporting client (off the hot path, in its sender
thread); ``decode_events`` on the server, before the events are applied to its
store. Decoding validates the shape of every event and raises
:class:`InvalidEvents` naming the first bad one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cadenza.events import (
    ArtifactCreated,
    Event,
    FlowRunCreated,
    FlowRunProcessChanged,
    FlowRunStateChanged,
    LogEmitted,
    TaskRunCreated,
    TaskRunStateChanged,
    summarize_inputs,
)
from cadenza.exceptions import CadenzaError
from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import State

_FLOW_RUN_FIELDS = (
    "id",
    "name",
    "flow_name",
    "parameters",
    "tags",
    "parent_flow_run_id",
    "parent_task_run_id",
    "created",
    "version",
    "hostname",
    "pid",
    "entrypoint",
)
_DEPLOYMENT_FIELDS = (
    "deployment_id",
    "work_pool_name",
    "work_queue_name",
    "expected_start_time",
    "idempotency_key",
    "worker_id",
    "heartbeat",
)
"""Fields of flow runs of deployments, sent only when set (older servers do not know
them, and most runs have none)."""
_TASK_RUN_FIELDS = (
    "id",
    "name",
    "task_key",
    "flow_run_id",
    "dynamic_key",
    "created",
    "tags",
    "parent_task_run_id",
    "kind",
    "subflow_run_id",
    "version",
)
_LOG_FIELDS = ("flow_run_id", "task_run_id", "level", "name", "message", "timestamp")


class InvalidEvents(CadenzaError, ValueError):
    """A batch of events in JSON form is malformed."""


def _state(state: State | None) -> dict[str, Any] | None:
    return None if state is None else state.to_dict()


def encode_event(event: Event) -> dict[str, Any]:
    if isinstance(event, TaskRunStateChanged):
        return {"kind": "task_run_state", "run_id": event.run_id, "state": event.state.to_dict()}
    if isinstance(event, TaskRunCreated):
        body = {f: getattr(event.run, f) for f in _TASK_RUN_FIELDS}
        body["inputs"] = summarize_inputs(event.run)
        return {"kind": "task_run_created", "run": body, "state": _state(event.state)}
    if isinstance(event, FlowRunStateChanged):
        return {"kind": "flow_run_state", "run_id": event.run_id, "state": event.state.to_dict()}
    if isinstance(event, FlowRunCreated):
        run = event.run
        body = {f: getattr(run, f) for f in _FLOW_RUN_FIELDS}
        if run.deployment_id is not None or run.expected_start_time is not None:
            body.update({f: getattr(run, f) for f in _DEPLOYMENT_FIELDS})
        return {"kind": "flow_run_created", "run": body, "state": _state(event.state)}
    if isinstance(event, FlowRunProcessChanged):
        return {"kind": "flow_run_process", **event._asdict()}
    if isinstance(event, LogEmitted):
        return {"kind": "log", "entry": {f: getattr(event.entry, f) for f in _LOG_FIELDS}}
    if isinstance(event, ArtifactCreated):
        return {"kind": "artifact", **event._asdict()}
    raise TypeError(f"not an event: {event!r}")


def encode_events(events: Iterable[Event]) -> list[dict[str, Any]]:
    return [encode_event(e) for e in events]


def _require(d: Any, key: str, where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise InvalidEvents(f"{where}: missing {key!r}")
    return d[key]


def _decode_state(d: Any, where: str) -> State:
    if not isinstance(d, dict):
        raise InvalidEvents(f"{where}: a state must be an object")
    try:
        return State.from_dict(d)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidEvents(f"{where}: invalid state ({exc})") from None


def _fields(body: Any, fields: Sequence[str], where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidEvents(f"{where}: expected an object")
    unknown = set(body) - set(fields) - {"inputs"}
    if unknown:
        raise InvalidEvents(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("id",) if "id" in fields else ():
        if not isinstance(body.get(required), str):
            raise InvalidEvents(f"{where}: {required!r} must be a string")
    return {f: body[f] for f in fields if f in body}


def decode_event(d: Any, index: int = 0) -> Event:
    where = f"event {index}"
    kind = _require(d, "kind", where)
    try:
        if kind == "task_run_state":
            return TaskRunStateChanged(
                str(_require(d, "run_id", where)), _decode_state(d.get("state"), where)
            )
        if kind == "task_run_created":
            body = _require(d, "run", where)
            run = TaskRun(**_fields(body, _TASK_RUN_FIELDS, where))
            run.inputs = body.get("inputs")
            state = d.get("state")
            return TaskRunCreated(run, None if state is None else _decode_state(state, where))
        if kind == "flow_run_state":
            return FlowRunStateChanged(
                str(_require(d, "run_id", where)), _decode_state(d.get("state"), where)
            )
        if kind == "flow_run_created":
            known = _FLOW_RUN_FIELDS + _DEPLOYMENT_FIELDS
            flow_run = FlowRun(**_fields(_require(d, "run", where), known, where))
            state = d.get("state")
            return FlowRunCreated(flow_run, None if state is None else _decode_state(state, where))
        if kind == "flow_run_process":
            run_id, host, pid = d.get("run_id"), d.get("hostname"), d.get("pid")
            if not isinstance(run_id, str) or not isinstance(host, str):
                raise InvalidEvents(f"{where}: 'run_id' and 'hostname' must be strings")
            if not isinstance(pid, int) or isinstance(pid, bool):
                raise InvalidEvents(f"{where}: 'pid' must be an integer")
            return FlowRunProcessChanged(run_id, host, pid)
        if kind == "log":
            entry = _fields(_require(d, "entry", where), _LOG_FIELDS, where)
            return LogEmitted(LogEntry(**entry))
        if kind == "artifact":
            fields = {k: v for k, v in d.items() if k != "kind"}
            return ArtifactCreated(**fields)
    except TypeError as exc:
        raise InvalidEvents(f"{where}: {exc}") from None
    raise InvalidEvents(f"{where}: unknown kind {kind!r}")


def decode_events(items: Any) -> list[Event]:
    """Events from their JSON form.

    Raises:
        InvalidEvents: the batch is not a list of well-formed events.
    """
    if not isinstance(items, list):
        raise InvalidEvents("events must be a list")
    return [decode_event(d, i) for i, d in enumerate(items)]
