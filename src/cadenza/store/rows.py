"""Turning run records into table rows, fast.

The background writer turns every task run into one row; at tens of thousands of
task runs per second this is the writer's main cost, so rows are tuples in
column order and the common JSON shapes are written directly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from cadenza.events import ArtifactCreated, summarize_inputs
from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import TERMINAL_STATES, State, StateType

# The C encoder, built once instead of once per call as json.dumps does.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)

_RUNNING = StateType.RUNNING
_TYPE_VALUE = {t: t.value for t in StateType}
_PLAIN_NAMES: dict[str, str] = {}


def _default(value: Any) -> Any:
    return repr(value)


if _c_make_encoder is not None:
    _encoder = _c_make_encoder(
        None, _default, encode_basestring_ascii, None, ":", ",", False, False, True
    )

    def dumps(value: Any) -> str:
        """Compact JSON; values JSON cannot hold are written as their ``repr``."""
        return "".join(_encoder(value, 0))
else:  # pragma: no cover
    _json_encoder = json.JSONEncoder(separators=(",", ":"), default=_default)

    def dumps(value: Any) -> str:
        return _json_encoder.encode(value)


def _name_json(name: str) -> str:
    quoted = _PLAIN_NAMES.get(name)
    if quoted is None:
        quoted = encode_basestring_ascii(name)
        if len(_PLAIN_NAMES) < 1000:
            _PLAIN_NAMES[name] = quoted
    return quoted


def state_json(s: State) -> str:
    """The JSON object of one history entry (same keys as :meth:`State.to_dict`)."""
    return _entry(s, repr(s.timestamp))


def _entry(s: State, timestamp: str) -> str:
    """:func:`state_json`, given the JSON of the state's timestamp (its ``repr``)."""
    if s.message is None and s.error_type is None and s.traceback is None and not s.data:
        return (
            f'{{"type":"{_TYPE_VALUE[s.type]}","name":{_name_json(s.name)},'
            f'"timestamp":{timestamp}}}'
        )
    return dumps(s.to_dict())


_PENDING = StateType.PENDING
_COMPLETED = StateType.COMPLETED


def is_plain_path(history: Sequence[State], created: float) -> bool:
    """Whether the history is Pending (at ``created``) -> Running -> Completed, with
    no messages: the path stored as NULL (see the ``history`` column)."""
    if len(history) != 3:
        return False
    p, r, c = history
    return (
        p.type is _PENDING
        and r.type is _RUNNING
        and c.type is _COMPLETED
        and p.name == "Pending"
        and r.name == "Running"
        and c.name == "Completed"
        and p.timestamp == created
        and p.message is r.message is c.message is None
        and p.error_type is r.error_type is c.error_type is None
        and p.traceback is r.traceback is c.traceback is None
        and p.data is r.data is c.data is None
    )


def unique_states(history: list[State]) -> list[State]:
    """``history`` without the states that repeat an earlier one (same time and name)."""
    if len(history) < 2:
        return history
    if len(history) == 2:
        a, b = history
        return history if a.timestamp != b.timestamp or a.name != b.name else [a]
    seen: set[tuple[float, str]] = set()
    out = []
    for s in history:
        key = (s.timestamp, s.name)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def history_json(history: Sequence[State], created: float | None = None) -> str | None:
    """The stored form of a history: JSON, or None for the plain path."""
    if created is not None and is_plain_path(history, created):
        return None
    return "[" + ",".join([state_json(s) for s in history]) + "]"


def load_history(
    text: str | None, created: float, start_time: float | None, end_time: float | None
) -> list[State]:
    """A run's history from its stored form (see :func:`history_json`)."""
    if text is not None:
        return [State.from_dict(d) for d in json.loads(text)]
    return [
        State(_PENDING, "Pending", timestamp=created),
        State(_RUNNING, "Running", timestamp=start_time),
        State(_COMPLETED, "Completed", timestamp=end_time),
    ]


def derive(history: Sequence[State]) -> tuple[Any, ...]:
    """The current-state columns from a history, in :data:`STATE_COLUMNS` order."""
    if not history:
        return (None, None, None, None, 0, None, None)
    run_count = 0
    start = None
    for s in history:
        if s.type is _RUNNING:
            run_count += 1
            if start is None:
                start = s.timestamp
    last = history[-1]
    return (
        _TYPE_VALUE[last.type],
        last.name,
        last.message,
        last.timestamp,
        run_count,
        start,
        last.timestamp if last.type in TERMINAL_STATES else None,
    )


def append_params(run_id: str, new: list[State]) -> tuple[Any, ...]:
    """What the statement that appends ``new`` to a run's stored history needs, in
    :func:`append_columns` order: the new current state, how many RUNNING states
    and the first one's time, the JSON of the new entries, the run's id, then the
    timestamps of the new states as text (the history must hold none of them)."""
    running = 0
    start = None
    stamps = []
    entries = []
    for s in new:
        stamp = repr(s.timestamp)  # as JSON writes it
        stamps.append(stamp)
        entries.append(_entry(s, stamp))
        if s.type is _RUNNING:
            running += 1
            if start is None:
                start = s.timestamp
    last = new[-1]
    return (
        _TYPE_VALUE[last.type],
        last.name,
        last.message,
        last.timestamp,
        running,
        start,
        last.timestamp if last.type in TERMINAL_STATES else None,
        ",".join(entries),
        run_id,
        *stamps,
    )


def append_columns(n_states: int) -> tuple[str, ...]:
    """Parameter names of the statement that appends ``n_states`` states."""
    return (
        "b_type",
        "b_name",
        "b_message",
        "b_timestamp",
        "b_running",
        "b_start",
        "b_end",
        "b_entries",
        "b_id",
        *(f"b_ts{i}" for i in range(n_states)),
    )


def merged(
    text: str | None,
    created: float,
    start_time: float | None,
    end_time: float | None,
    new: list[State],
) -> tuple[Any, ...] | None:
    """The state columns and stored history of a run after adding the states of
    ``new`` that its history (``text`` and the numbers of its row) does not hold;
    None when it holds them all."""
    history = load_history(text, created, start_time, end_time)
    seen = {(s.timestamp, s.name) for s in history}
    added = [s for s in unique_states(new) if (s.timestamp, s.name) not in seen]
    if not added:
        return None
    history += added
    return (*derive(history), history_json(history))


STATE_COLUMNS = (
    "state_type",
    "state_name",
    "state_message",
    "state_timestamp",
    "run_count",
    "start_time",
    "end_time",
)

TASK_RUN_COLUMNS = (
    "id",
    "flow_run_id",
    "name",
    "task_key",
    "dynamic_key",
    "kind",
    "subflow_run_id",
    "parent_task_run_id",
    "created",
    "version",
    "tags",
    "inputs",
    *STATE_COLUMNS,
    "history",
)


def task_run_row(run: TaskRun, history: list[State]) -> tuple[Any, ...]:
    inputs = summarize_inputs(run)
    if is_plain_path(history, run.created):
        # Most task runs: the state columns follow from the three timestamps.
        _, running, completed = history
        end = completed.timestamp
        state: tuple[Any, ...] = ("COMPLETED", "Completed", None, end, 1, running.timestamp, end)
        text = None
    else:
        history = unique_states(history)
        state = derive(history)
        text = history_json(history)
    return (
        run.id,
        run.flow_run_id,
        run.name,
        run.task_key,
        run.dynamic_key,
        run.kind,
        run.subflow_run_id,
        run.parent_task_run_id,
        run.created,
        run.version,
        dumps(run.tags) if run.tags else "[]",
        None if inputs is None else dumps(inputs),
        *state,
        text,
    )


FLOW_RUN_COLUMNS = (
    "id",
    "flow_id",
    "name",
    "parameters",
    "tags",
    "parent_flow_run_id",
    "parent_task_run_id",
    "created",
    "version",
    "hostname",
    "pid",
    *STATE_COLUMNS,
    "history",
    "entrypoint",
    "deployment_id",
    "work_pool_name",
    "work_queue_name",
    "expected_start_time",
    "idempotency_key",
    "worker_id",
    "heartbeat",
)


def flow_run_row(run: FlowRun, flow_id: str, history: list[State]) -> tuple[Any, ...]:
    history = unique_states(history)
    return (
        run.id,
        flow_id,
        run.name,
        dumps(run.parameters),
        dumps(run.tags),
        run.parent_flow_run_id,
        run.parent_task_run_id,
        run.created,
        run.version,
        run.hostname,
        run.pid,
        *derive(history),
        history_json(history),
        run.entrypoint,
        run.deployment_id,
        run.work_pool_name,
        run.work_queue_name,
        run.expected_start_time,
        run.idempotency_key,
        run.worker_id,
        run.heartbeat,
    )


LOG_COLUMNS = (
    "flow_run_id",
    "task_run_id",
    "level",
    "name",
    "message",
    "timestamp",
    "dedup_key",
)


def log_rows(entries: Sequence[LogEntry]) -> list[tuple[Any, ...]]:
    """Rows of log lines, in :data:`LOG_COLUMNS` order.

    A line's identity is its timestamp and ``dedup_key``, a digest of everything else
    it says plus how many lines alike (same runs, level, logger, message and time)
    came before it in ``entries``. Delivered again, alone or inside a larger batch
    that starts with the same events, a line gets the same identity; two alike lines
    of one batch (a loop logging faster than the clock ticks) stay two.
    """
    out = []
    seen: dict[tuple[Any, ...], int] = {}
    blake2b = hashlib.blake2b
    from_bytes = int.from_bytes
    for e in entries:
        fr, tr, level, name, message, ts = (
            e.flow_run_id,
            e.task_run_id,
            e.level,
            e.name,
            e.message,
            e.timestamp,
        )
        alike = (fr, tr, level, name, message, ts)
        n = seen.get(alike, 0)
        seen[alike] = n + 1
        text = "\x1f".join([fr or "", tr or "", str(level), name, message, str(n)])
        digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        out.append((fr, tr, level, name, message, ts, from_bytes(digest, "big", signed=True)))
    return out


ARTIFACT_COLUMNS = (
    "id",
    "key",
    "type",
    "description",
    "data",
    "flow_run_id",
    "task_run_id",
    "created",
)


def artifact_rows(events: Sequence[ArtifactCreated]) -> list[tuple[Any, ...]]:
    """Rows of artifacts, in :data:`ARTIFACT_COLUMNS` order."""
    return [
        (e.id, e.key, e.type, e.description, e.data, e.flow_run_id, e.task_run_id, e.created)
        for e in events
    ]
