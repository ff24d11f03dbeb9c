"""Which run the calling code belongs to, for the fluent tracking functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cadenza.context import _flow_run_ctx, _task_run_ctx
from cadenza.tracking.errors import NoActiveRun

if TYPE_CHECKING:
    from cadenza.reporting.base import Reporter


def outside_run(what: str) -> NoActiveRun:
    """The error of a fluent function called outside any run."""
    return NoActiveRun(
        f"{what} records on the current run, and there is none: call it inside a "
        f"function decorated with @flow or @task, or use cadenza.TrackingClient() "
        f"with a run id (TrackingClient().{_client_name(what)}(run_id, ...))."
    )


def _client_name(what: str) -> str:
    name = what.removeprefix("cadenza.").split("(", 1)[0]
    return {
        "log_params": "log_batch",
        "log_metrics": "log_batch",
        "set_tags": "log_batch",
        "log_dict": "log_artifact",
        "log_text": "log_artifact",
        "log_figure": "log_artifact",
        "log_artifacts": "log_artifacts",
        "log_input": "log_inputs",
        "set_experiment": "create_experiment",
    }.get(name, name)


def current_run_id(what: str) -> str:
    """The id of the task run of the calling code, else its flow run.

    Raises:
        NoActiveRun: the caller is in no run.
    """
    task_ctx = _task_run_ctx.get()
    if task_ctx is not None:
        return task_ctx.task_run.id
    flow_ctx = _flow_run_ctx.get()
    if flow_ctx is not None:
        return flow_ctx.flow_run.id
    raise outside_run(what)


def current_reporter() -> Reporter | None:
    """The reporter of the calling code's run, or None outside any run."""
    task_ctx = _task_run_ctx.get()
    if task_ctx is not None:
        flow_ctx = task_ctx.flow_run_context
        if flow_ctx is not None:
            return flow_ctx.reporter
        from cadenza.reporting import get_reporter

        return get_reporter()
    flow_ctx = _flow_run_ctx.get()
    return flow_ctx.reporter if flow_ctx is not None else None
