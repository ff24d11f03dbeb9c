"""The events the engine emits about runs, and their JSON form.

They cross the one seam between the engine and where run data goes: a
:class:`~cadenza.reporting.base.Reporter` collects them and a store applies them in
batches (:meth:`~cadenza.store.base.RunStore.apply`), locally or on a server.
Applying the same event twice has the effect of applying it once.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import State


class FlowRunCreated(NamedTuple):
    run: FlowRun
    state: State | None = None
    """The run's first state, if it has one (same as a state event right after)."""


class TaskRunCreated(NamedTuple):
    run: TaskRun
    state: State | None = None
    """The run's first state, if it has one (same as a state event right after)."""


class FlowRunStateChanged(NamedTuple):
    run_id: str
    state: State


class TaskRunStateChanged(NamedTuple):
    run_id: str
    state: State


class FlowRunProcessChanged(NamedTuple):
    """Another process runs an existing flow run: a resumed run, or a run created
    ahead of time (by a schedule) that a worker started. Its ``hostname`` and ``pid``
    become this process's, so that cancelling the run signals the right process."""

    run_id: str
    hostname: str
    pid: int


class LogEmitted(NamedTuple):
    entry: LogEntry


class ArtifactCreated(NamedTuple):
    """An artifact was created (see :class:`~cadenza.runs.Artifact`).

    ``data`` is the artifact's content as JSON text, written when it was created, so
    that later changes to the objects it came from do not change it.
    """

    id: str
    type: str
    data: str
    key: str | None = None
    description: str | None = None
    flow_run_id: str | None = None
    task_run_id: str | None = None
    created: float = 0.0


Event = (
    FlowRunCreated
    | TaskRunCreated
    | FlowRunStateChanged
    | TaskRunStateChanged
    | FlowRunProcessChanged
    | LogEmitted
    | ArtifactCreated
)


_SCALAR_NAMES: dict[type, str] = {int: "int", float: "float", bool: "bool", type(None): "NoneType"}


def summarize_value(value: Any) -> dict[str, Any]:
    """A short, JSON-serializable description of a value, cheap to compute.

    Small scalars keep their value; containers and arrays keep their type and size or
    shape. Nothing is converted to a string in full, so a large DataFrame costs no
    more than an int.
    """
    scalar = _SCALAR_NAMES.get(type(value))
    if scalar is not None:
        return {"type": scalar, "value": value}
    if isinstance(value, bool | int | float):
        return {"type": type(value).__name__, "value": value}
    if isinstance(value, str):
        if len(value) <= 200:
            return {"type": "str", "value": value}
        return {"type": "str", "len": len(value), "value": value[:200] + "…"}
    summary: dict[str, Any] = {"type": type(value).__name__}
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        summary["shape"] = list(shape)
    else:
        try:
            summary["len"] = len(value)
        except Exception:
            pass
    return summary


def summarize_inputs(run: TaskRun) -> dict[str, Any] | None:
    """The stored summary of a task run's inputs (its ``inputs`` field)."""
    if run.inputs is not None:
        return run.inputs
    params = run.parameters
    upstream = run.upstream or {}
    if not params and not upstream:
        return None
    out: dict[str, Any] = {}
    if params:
        for key, value in params.items():
            if key in upstream:
                out[key] = {"upstream": upstream[key]}
            else:
                out[key] = summarize_value(value)
    for key, ids in upstream.items():
        out.setdefault(key, {"upstream": ids})
    return out
