"""``POST /api/flow_runs/{id}/cancel`` and ``.../retry``: acting on flow runs."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, Depends
from starlette.responses import Response

from cadenza.runs import FlowRun
from cadenza.server.api import convert, models, processes
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, responses
from cadenza.server.api.flow_runs import read_flow_run
from cadenza.store.base import RunStore

router = APIRouter(tags=["actions"])
logger = logging.getLogger("cadenza.server.api")


def _state_name(run: FlowRun) -> str:
    return run.state.name if run.state is not None else "without a state"


def _detail(store: RunStore, run_id: str) -> models.FlowRunDetail:
    run = read_flow_run(store, run_id)
    return convert.flow_run_detail(run, store.count_task_runs_by_state(run.id))


@router.post(
    "/flow_runs/{flow_run_id}/cancel",
    status_code=202,
    response_model=models.CancelResult,
    responses=responses(404, 409),
)
def cancel_flow_run(flow_run_id: str, store: RunStore = Depends(get_store)) -> Response:
    """Cancel a flow run that has not finished.

    Records a ``Cancelling`` state, then, when the run's process is on this server's
    machine and still alive, sends it SIGTERM: the run stops and ends ``Cancelled``.
    A run on another machine is only marked ``Cancelling``; when a worker runs it, the
    worker stops it at its next heartbeat. A ``Scheduled`` run, which has no process
    yet, is ``Cancelled`` at once. Answers 202 with the run; 409 when the run has
    finished already.
    """
    from cadenza.cancellation import cancel_flow_run as cancel

    outcome = cancel(store, flow_run_id, own="the server's own process")
    result = models.CancelResult(
        flow_run=_detail(store, outcome.flow_run_id),
        signal_sent=outcome.signal_sent,
        message=outcome.message,
    )
    return convert.respond(result, 202)


@router.post(
    "/flow_runs/{flow_run_id}/retry",
    status_code=202,
    response_model=models.RetryResult,
    responses=responses(404, 409),
)
def retry_flow_run(flow_run_id: str, store: RunStore = Depends(get_store)) -> Response:
    """Resume a failed, crashed or cancelled flow run, from where it failed.

    Starts ``cadenza runs retry <id>`` in a process of its own on the server's
    machine, with the server's environment and database: tasks whose results were
    persisted come back ``Cached``, the rest run again, as a new attempt of the same
    run. The run must have recorded its entrypoint, and its code must be where the
    entrypoint says on the server's machine. Answers 202 at once; follow the run's
    state to see the outcome. 409 when the run cannot be retried.
    """
    run = read_flow_run(store, flow_run_id)
    if run.state is None or run.state.type not in convert.RETRYABLE:
        raise ApiError(
            "INVALID_STATE",
            f"Flow run {run.name!r} is {_state_name(run)}: only failed, crashed or "
            "cancelled runs can be retried.",
        )
    if not run.entrypoint:
        raise ApiError(
            "INVALID_STATE",
            f"Flow run {run.name!r} did not record where its flow lives (a flow defined "
            "inside a function?), so the server cannot load it. Run "
            f"`cadenza runs retry {run.id} --entrypoint path/file.py:function` where the "
            "code is.",
        )
    running = processes.retry_in_progress(run.id)
    if running is not None:
        raise ApiError(
            "INVALID_STATE",
            f"Flow run {run.name!r} is being retried already (process {running}).",
        )
    from cadenza.settings import get_settings

    try:
        pid = processes.start_retry(
            run.id,
            database_url=getattr(store, "url", None),
            output_dir=Path(get_settings().home) / "server",
        )
    except OSError as exc:
        raise ApiError(
            "INTERNAL_ERROR", f"Could not start the retry process: {exc.strerror or exc}"
        ) from exc
    result = models.RetryResult(
        flow_run=_detail(store, run.id),
        pid=pid,
        message=f"Retrying in process {pid}; follow the run's state for the outcome.",
    )
    return convert.respond(result, 202)
