"""JSON records of runs, flows and log lines, with stable keys.

Every timestamp appears twice: ``created`` as ISO-8601 in UTC and ``created_epoch``
as seconds since the epoch. Absent values are ``null``, never missing keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadenza.cli.output import level_name, state_json, timestamp_fields

if TYPE_CHECKING:
    from cadenza.runs import FlowRecord, FlowRun, LogEntry, TaskRun


def _duration(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return end - start


def flow_run_json(run: FlowRun) -> dict[str, Any]:
    """A flow run; ``history`` is included when the run was read with it."""
    record: dict[str, Any] = {
        "id": run.id,
        "name": run.name,
        "flow_name": run.flow_name,
        "state": state_json(run.state),
        "parameters": run.parameters,
        "tags": list(run.tags),
        "parent_flow_run_id": run.parent_flow_run_id,
        "parent_task_run_id": run.parent_task_run_id,
        **timestamp_fields("created", run.created),
        **timestamp_fields("start_time", run.start_time),
        **timestamp_fields("end_time", run.end_time),
        "duration_seconds": _duration(run.start_time, run.end_time),
        "run_count": run.run_count,
        "version": run.version,
        "hostname": run.hostname,
        "pid": run.pid,
        "entrypoint": run.entrypoint,
    }
    if run.history is not None:
        record["history"] = [state_json(s) for s in run.history]
    return record


def task_run_json(run: TaskRun) -> dict[str, Any]:
    """A task run; ``history`` is included when the run was read with it."""
    record: dict[str, Any] = {
        "id": run.id,
        "name": run.name,
        "task_key": run.task_key,
        "kind": run.kind,
        "flow_run_id": run.flow_run_id,
        "subflow_run_id": run.subflow_run_id,
        "parent_task_run_id": run.parent_task_run_id,
        "dynamic_key": run.dynamic_key,
        "state": state_json(run.state),
        "inputs": run.inputs,
        "tags": list(run.tags),
        **timestamp_fields("created", run.created),
        **timestamp_fields("start_time", run.start_time),
        **timestamp_fields("end_time", run.end_time),
        "duration_seconds": _duration(run.start_time, run.end_time),
        "run_count": run.run_count,
        "retries": max(run.run_count - 1, 0),
        "version": run.version,
    }
    if run.history is not None:
        record["history"] = [state_json(s) for s in run.history]
    return record


def log_json(entry: LogEntry, run_name: str | None = None) -> dict[str, Any]:
    """A log line; ``run_name`` names the task run (or flow run) that wrote it."""
    return {
        "id": entry.id,
        "flow_run_id": entry.flow_run_id or None,
        "task_run_id": entry.task_run_id or None,
        "run_name": run_name,
        "level": entry.level,
        "level_name": level_name(entry.level),
        "logger": entry.name,
        "message": entry.message,
        **timestamp_fields("timestamp", entry.timestamp),
    }


def flow_json(record: FlowRecord) -> dict[str, Any]:
    """A flow with its run count and the state of its latest run."""
    state = record.last_state
    return {
        "id": record.id,
        "name": record.name,
        **timestamp_fields("created", record.created),
        "run_count": record.run_count,
        **timestamp_fields("last_run", record.last_run_created),
        "last_state": None if state is None else {"type": state.type.value, "name": state.name},
    }
