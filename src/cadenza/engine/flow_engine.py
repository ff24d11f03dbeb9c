"""Running one flow run: parameters, states, retries, timeouts, futures, hooks.

As for tasks, the sync and async loops share every decision through
:class:`FlowRunEngine`; only the call of the user's function differs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from cadenza.context import (
    FlowRunContext,
    _flow_run_ctx,
    _task_run_ctx,
    current_tags,
)
from cadenza.engine.parameters import is_lossy
from cadenza.engine.resume import previous_subflows, save_parameters
from cadenza.engine.retries import retry_delay
from cadenza.engine.task_engine import _sleep, call_async, interrupted_state
from cadenza.engine.timeouts import Timeout
from cadenza.events import (
    FlowRunCreated,
    FlowRunProcessChanged,
    FlowRunStateChanged,
    TaskRunCreated,
    TaskRunStateChanged,
)
from cadenza.exceptions import FlowRunTimeoutError, TerminationSignal, TimeoutSignal
from cadenza.futures import FutureList, TaskRunFuture
from cadenza.reporting import get_reporter
from cadenza.runs import FlowRun, TaskRun
from cadenza.states import (
    AwaitingRetry,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    State,
    StateType,
    TimedOut,
)
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.flows import Flow
    from cadenza.runners.base import TaskRunner

logger = logging.getLogger("cadenza.flow_runs")
_FAILURES = (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)
_hostname: str | None = None


def _host() -> str:
    global _hostname
    if _hostname is None:
        import socket

        _hostname = socket.gethostname()
    return _hostname


class FlowRunEngine:
    """One flow run from Pending to a final state.

    A new flow run is created for the call, unless ``resume`` (a failed run to run
    again as a new attempt) or ``run`` (a run created ahead of time, e.g. by a
    schedule, that has not run yet) is given: then the call executes that run, and
    its host name and process id become this process's.
    """

    def __init__(
        self,
        flow: Flow[Any, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        resume: FlowRun | None = None,
        run: FlowRun | None = None,
    ) -> None:
        self.flow = flow
        # Bad parameters fail here, before anything is recorded or run.
        self.call_args, self.call_kwargs, values, parameters = flow.prepare_parameters(args, kwargs)
        self.reporter = reporter = get_reporter()
        reporter.check()
        self.parent = parent = FlowRunContext.get()
        parent_task = _task_run_ctx.get()
        self.slot: TaskRun | None = None
        now = time.time()
        if resume is not None and run is not None:
            raise ValueError("give either the run to resume or the run to start, not both")
        run_id = resume.id if resume is not None else run.id if run is not None else uuid7()
        parent_task_run_id = None
        parent_flow_run_id = None
        if parent_task is not None:
            parent_task_run_id = parent_task.task_run.id
            parent_flow_run_id = parent_task.task_run.flow_run_id
        elif parent is not None:
            key = f"subflow:{flow.name}"
            dynamic_key = parent.next_dynamic_key(key)
            earlier = parent.previous_subflows.get((flow.name, dynamic_key))
            if resume is None and run is None and earlier is not None:
                # The parent is being resumed: so is this subflow's earlier run.
                resume = self._load_run(earlier)
                if resume is not None:
                    run_id = resume.id
            slot = TaskRun(
                id=uuid7(),
                name=f"{flow.name}-{dynamic_key}",
                task_key=key,
                flow_run_id=parent.flow_run.id,
                dynamic_key=dynamic_key,
                created=now,
                kind="subflow",
                subflow_run_id=run_id,
            )
            self.slot = slot
            reporter.emit(TaskRunCreated(slot))
            self._set_slot_state(Pending(timestamp=now))
            parent_task_run_id = slot.id
            parent_flow_run_id = parent.flow_run.id
        self.resumed = resume
        existing = resume if resume is not None else run
        if existing is not None:
            self.flow_run = existing
            self.state = existing.state or Pending(timestamp=now)
            # One event moves the run to this process: cancelling it signals this one.
            existing.hostname, existing.pid = _host(), os.getpid()
            reporter.emit(FlowRunProcessChanged(existing.id, existing.hostname, existing.pid))
        else:
            self.flow_run = FlowRun(
                id=run_id,
                name=flow.run_name(parameters),
                flow_name=flow.name,
                parameters=parameters,
                tags=sorted(flow.tags | current_tags()),
                parent_flow_run_id=parent_flow_run_id,
                parent_task_run_id=parent_task_run_id,
                created=now,
                version=flow.resolved_version(),
                hostname=_host(),
                pid=os.getpid(),
                entrypoint=flow.entrypoint,
            )
            reporter.emit(FlowRunCreated(self.flow_run))
            self.state = self.set_state(Pending(timestamp=now))
            if flow.persist_result and is_lossy(parameters):
                save_parameters(flow, run_id, values)
        self.ctx: FlowRunContext | None = None
        self._token: Any = None
        self._runner: TaskRunner | None = None
        self._sigterm: Any = None

    def _load_run(self, flow_run_id: str) -> FlowRun | None:
        store = getattr(self.reporter, "store", None)
        return store.read_flow_run(flow_run_id) if store is not None else None

    # -- states -------------------------------------------------------------------------
    def set_state(self, state: State) -> State:
        self.state = state
        run = self.flow_run
        run.state = state
        if state.type is StateType.RUNNING:  # each attempt, as the store counts them
            run.run_count += 1
        self.reporter.emit(FlowRunStateChanged(run.id, state))
        if self.slot is not None and state.type is not StateType.SCHEDULED:
            self._set_slot_state(state)
        return state

    def _set_slot_state(self, state: State) -> None:
        slot = self.slot
        assert slot is not None
        slot.state = state
        if state.type is StateType.RUNNING:
            slot.run_count += 1
        self.reporter.emit(TaskRunStateChanged(slot.id, state))

    def _log(self, level: int, msg: str, *args: Any) -> None:
        run = self.flow_run
        logger.log(
            level,
            msg,
            *args,
            extra={
                "flow_run_id": run.id,
                "task_run_id": None,
                "run_label": f"Flow run {run.name!r}",
            },
        )

    # -- entering and leaving the run ----------------------------------------------------------
    def enter(self) -> None:
        flow = self.flow
        self._runner = runner = flow.task_runner.duplicate()
        runner.__enter__()
        log_prints = flow.log_prints
        if log_prints is None:
            log_prints = self.parent.log_prints if self.parent is not None else False
        if log_prints:
            from cadenza.logging.loggers import patch_print

            patch_print()
        self.ctx = FlowRunContext(flow, self.flow_run, self.reporter, runner, bool(log_prints))
        if self.resumed is not None:
            store = getattr(self.reporter, "store", None)
            if store is not None:
                self.ctx.previous_subflows = previous_subflows(store, self.flow_run.id)
        self._token = _flow_run_ctx.set(self.ctx)
        if self.parent is None and threading.current_thread() is threading.main_thread():
            self._install_sigterm()
        from cadenza.logging.loggers import setup_logging

        setup_logging()
        if self.resumed is None:
            self._log(
                logging.INFO, "Beginning flow run %r for flow %r", self.flow_run.name, flow.name
            )
        else:
            self._log(
                logging.INFO, "Resuming flow run %r of flow %r", self.flow_run.name, flow.name
            )
            current = flow.resolved_version()
            if self.resumed.version and current and self.resumed.version != current:
                self._log(
                    logging.WARNING,
                    "The source of flow %r changed since this run failed; resuming anyway "
                    "(tasks whose source changed run again).",
                    flow.name,
                )

    def _install_sigterm(self) -> None:
        try:
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

                def on_sigterm(signum: int, frame: Any) -> None:
                    raise TerminationSignal(signum)

                self._sigterm = signal.signal(signal.SIGTERM, on_sigterm)
        except (ValueError, OSError):  # not the main interpreter, or no signals here
            self._sigterm = None

    def leave(self) -> None:
        """Leave the run: wait for or abandon submitted runs, flush, call hooks."""
        cancelled = self.state.type is StateType.CANCELLED
        crashed = cancelled or self.state.type is StateType.CRASHED
        runner, self._runner = self._runner, None
        ctx = self.ctx
        if crashed and ctx is not None:
            verb = "was cancelled" if cancelled else "crashed"
            for f in ctx.futures:
                if (
                    not f.done()
                    and f.task_run.state is not None
                    and not f.task_run.state.is_final()
                ):
                    message = (
                        f"Flow run {self.flow_run.name!r} {verb} "
                        "while this task run was unfinished."
                    )
                    end = Cancelled(message=message) if cancelled else Crashed(message=message)
                    self.reporter.emit(TaskRunStateChanged(f.task_run.id, end))
        if runner is not None:
            runner.shutdown(wait=not crashed)
        if self._token is not None:
            _flow_run_ctx.reset(self._token)
            self._token = None
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None
        state = self.state
        level = logging.INFO if state.type is StateType.COMPLETED else logging.ERROR
        self._log(level, "Finished in state %r", state)
        if not self.reporter.flush():
            self._log(
                logging.ERROR,
                "The final state of this flow run could not be recorded yet; it is kept "
                "in memory and retried while the process lives.",
            )
        self.run_hooks()
        from cadenza.notify.runtime import flow_run_finished

        flow_run_finished(self.flow_run, state, self.reporter)

    # -- outcomes -------------------------------------------------------------------------------
    def wait_for_futures(self) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        for f in ctx.futures:
            f.final_state()

    def handle_result(self, result: Any) -> Any:
        """Set the final state from the function's return value and the task runs it
        left unobserved; returns the value to give the caller."""
        self.wait_for_futures()
        value = result
        failed: list[TaskRunFuture[Any]] = []
        if isinstance(result, TaskRunFuture):
            result._observed = True
            state = result.final_state()
            value = state.result(raise_on_failure=False)
            if state.type in _FAILURES:
                failed.append(result)
        elif isinstance(result, FutureList):
            value = []
            for f in result:
                f._observed = True
                state = f.final_state()
                value.append(state.result(raise_on_failure=False))
                if state.type in _FAILURES:
                    failed.append(f)
        elif isinstance(result, State):
            if result.type in _FAILURES:
                self.set_state(
                    Failed(
                        message=result.message,
                        exception=result.exception,
                        error_type=result.error_type,
                        traceback=result.traceback,
                    )
                )
                return result.result(raise_on_failure=False)
            value = result.result(raise_on_failure=False)
        if self.ctx is not None:
            failed.extend(
                f
                for f in self.ctx.futures
                if not f._observed and f.final_state().type in _FAILURES and f not in failed
            )
        if failed:
            first = failed[0].final_state()
            names = ", ".join(repr(f.task_run.name) for f in failed[:5])
            more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
            self.set_state(
                Failed(
                    message=f"{len(failed)} task run(s) failed: {names}{more}. "
                    f"First error: {first.message}",
                    exception=first.exception,
                    error_type=first.error_type,
                    traceback=first.traceback,
                )
            )
            return value
        self.set_state(Completed(result=value))
        return value

    def handle_exception(self, exc: BaseException, attempt: int) -> float | None:
        """Record a failed attempt; returns the delay before a retry, or None if final."""
        flow = self.flow
        if isinstance(exc, TimeoutSignal):
            exc = FlowRunTimeoutError(
                f"Flow run {self.flow_run.name!r} exceeded its timeout of "
                f"{flow.timeout_seconds} seconds and was stopped."
            )
            failed = TimedOut(exception=exc)
        elif isinstance(exc, Exception):
            failed = Failed(exception=exc)
        else:
            self.set_state(interrupted_state(exc, self.reporter, self.flow_run.id))
            return None
        if attempt <= flow.retries:
            self.wait_for_futures()
            delay = retry_delay(flow.retry_delay_seconds, flow.retries, attempt, None)
            self.set_state(
                AwaitingRetry(
                    time.time() + delay,
                    message=failed.message,
                    error_type=failed.error_type,
                    traceback=failed.traceback,
                    exception=failed.exception,
                )
            )
            self._log(
                logging.WARNING,
                "Flow run failed (%s); retry %d of %d in %.3g s.",
                failed.message,
                attempt,
                flow.retries,
                delay,
            )
            return delay
        self.set_state(failed)
        return None

    def run_hooks(self) -> None:
        flow = self.flow
        hooks = {
            StateType.COMPLETED: flow.on_completion_hooks,
            StateType.FAILED: flow.on_failure_hooks,
            StateType.CRASHED: flow.on_crashed_hooks,
            StateType.CANCELLED: flow.on_cancellation_hooks,
        }.get(self.state.type, [])
        for hook in hooks:
            try:
                hook(flow, self.flow_run, self.state)
            except Exception:
                self._log(
                    logging.ERROR,
                    "Hook %r raised; the run's state is unchanged.",
                    getattr(hook, "__name__", hook),
                )
                logger.debug("hook error", exc_info=True)

    def outcome(self, return_state: bool) -> Any:
        if return_state:
            return self.state
        return self.state.result()

    def begin_attempt(self, attempt: int) -> None:
        if attempt == 1 and self.resumed is not None:
            self.set_state(Retrying(message="Resumed: a new attempt of this run"))
        else:
            self.set_state(Running() if attempt == 1 else Retrying())
        if attempt == 1:
            for hook in self.flow.on_running_hooks:
                try:
                    hook(self.flow, self.flow_run, self.state)
                except Exception:
                    self._log(
                        logging.ERROR, "on_running hook %r raised.", getattr(hook, "__name__", hook)
                    )


def run_flow_sync(
    flow: Flow[Any, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    return_state: bool,
    resume: FlowRun | None = None,
    run: FlowRun | None = None,
) -> Any:
    engine = FlowRunEngine(flow, args, kwargs, resume, run)
    engine.enter()
    try:
        attempt = 1
        while True:
            engine.begin_attempt(attempt)
            try:
                if flow.timeout_seconds is None:
                    result = flow.fn(*engine.call_args, **engine.call_kwargs)
                else:
                    with Timeout(flow.timeout_seconds):
                        result = flow.fn(*engine.call_args, **engine.call_kwargs)
                engine.handle_result(result)
                break
            except BaseException as exc:
                delay = engine.handle_exception(exc, attempt)
                if delay is None:
                    break
                if delay > 0:
                    time.sleep(delay)
                attempt += 1
    finally:
        if not engine.state.is_final():  # an interrupt inside cadenza itself
            engine.set_state(Crashed(message="Interrupted while finishing the flow run"))
        engine.leave()
    return engine.outcome(return_state)


async def run_flow_async(
    flow: Flow[Any, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    return_state: bool,
    resume: FlowRun | None = None,
    run: FlowRun | None = None,
) -> Any:
    engine = FlowRunEngine(flow, args, kwargs, resume, run)
    engine.enter()
    try:
        attempt = 1
        while True:
            engine.begin_attempt(attempt)
            try:
                result = await call_async(
                    flow.fn, engine.call_args, engine.call_kwargs, flow.timeout_seconds
                )
                engine.handle_result(result)
                break
            except BaseException as exc:
                delay = engine.handle_exception(exc, attempt)
                if delay is None:
                    break
                await _sleep(delay)
                attempt += 1
    finally:
        if not engine.state.is_final():
            engine.set_state(Crashed(message="Interrupted while finishing the flow run"))
        engine.leave()
    return engine.outcome(return_state)
