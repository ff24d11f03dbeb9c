"""The JSON form of events, as a client sends them to a server.

``encode_events`` runs in the reporting client (off the hot path, in its sender
thread); ``decode_events`` on the server, before the events are applied to its
store. Decoding validates the shape of every event and raises
:class:`InvalidEvents` naming the first bad one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from cadenza.events import (
    ArtifactCreated,
    DatasetLogged,
    Event,
    ExperimentSet,
    FlowRunCreated,
    FlowRunProcessChanged,
    FlowRunStateChanged,
    LogEmitted,
    MetricLogged,
    ParamsLogged,
    TagsSet,
    TaskRunCreated,
    TaskRunStateChanged,
    summarize_inputs,
)
from cadenza.exceptions import CadenzaError
from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import State
from cadenza.tracking.errors import InvalidTrackingValue
from cadenza.tracking.values import check_key

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
    tracking = _encode_tracking(event)
    if tracking is not None:
        return tracking
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
        if kind in _TRACKING_KINDS:
            return _decode_tracking(kind, d, where)
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


# -- tracking events --------------------------------------------------------------------
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_number(value: float) -> float | str:
    """A float as JSON holds it: NaN and infinities as ``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"`` (read back by :func:`number_from_json`)."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _encode_tracking(event: Event) -> dict[str, Any] | None:
    if isinstance(event, MetricLogged):
        return {
            "kind": "metric",
            "run_id": event.run_id,
            "key": event.key,
            "value": json_number(event.value),
            "timestamp": event.timestamp,
            "step": event.step,
        }
    if isinstance(event, ParamsLogged):
        return {"kind": "params", "run_id": event.run_id, "params": event.params}
    if isinstance(event, TagsSet):
        return {
            "kind": "tags",
            "run_id": event.run_id,
            "tags": event.tags,
            "timestamp": event.timestamp,
        }
    if isinstance(event, ExperimentSet):
        return {"kind": "experiment", "run_id": event.run_id, "name": event.name}
    if isinstance(event, DatasetLogged):
        return {"kind": "dataset", **event._asdict()}
    return None


def _string(d: dict[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = d.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidEvents(f"{where}: {key!r} must be a string")
    return value


def number_from_json(value: Any) -> float:
    """The float of :func:`json_number`'s form.

    Raises:
        ValueError: ``value`` is neither a number nor one of its strings.
    """
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r:.80}")
    return float(value)


def _float(value: Any, key: str, where: str) -> float:
    try:
        return number_from_json(value)
    except ValueError:
        raise InvalidEvents(f"{where}: {key!r} must be a number") from None


def _strings(value: Any, key: str, where: str, *, keys: bool = True) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidEvents(f"{where}: {key!r} must be an object of strings")
    if not keys:
        return value
    try:
        for k in value:
            check_key(k)
    except InvalidTrackingValue as exc:
        raise InvalidEvents(f"{where}: {exc}") from None
    return value


def _decode_tracking(kind: str, d: dict[str, Any], where: str) -> Event:
    run_id = _string(d, "run_id", where)
    if kind == "metric":
        key = _string(d, "key", where)
        try:
            check_key(key, "metric key")
        except InvalidTrackingValue as exc:
            raise InvalidEvents(f"{where}: {exc}") from None
        step = d.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int):
            raise InvalidEvents(f"{where}: 'step' must be an integer")
        return MetricLogged(
            run_id,
            key,
            _float(d.get("value"), "value", where),
            _float(d.get("timestamp"), "timestamp", where),
            step,
        )
    if kind == "params":
        return ParamsLogged(run_id, _strings(d.get("params"), "params", where))
    if kind == "tags":
        tags = _strings(d.get("tags"), "tags", where)
        return TagsSet(run_id, tags, _float(d.get("timestamp"), "timestamp", where))
    if kind == "experiment":
        return ExperimentSet(run_id, _string(d, "name", where))
    fields = {k: v for k, v in d.items() if k != "kind"}
    dataset = DatasetLogged(**fields)
    _string(fields, "name", where)
    _string(fields, "digest", where)
    for optional in ("source", "context"):
        _string(fields, optional, where, optional=True)
    if dataset.schema is not None:
        _strings(dataset.schema, "schema", where, keys=False)
    if dataset.num_rows is not None and not isinstance(dataset.num_rows, int):
        raise InvalidEvents(f"{where}: 'num_rows' must be an integer")
    if dataset.profile is not None and not isinstance(dataset.profile, dict):
        raise InvalidEvents(f"{where}: 'profile' must be an object")
    return dataset._replace(timestamp=_float(dataset.timestamp, "timestamp", where))


_TRACKING_KINDS = frozenset({"metric", "params", "tags", "experiment", "dataset"})
