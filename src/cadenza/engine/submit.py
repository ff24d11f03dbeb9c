"""``task.submit()`` and ``task.map()``: task runs handed to a task runner."""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import threading
from typing import TYPE_CHECKING, Any

from cadenza.context import FlowRunContext
from cadenza.engine.task_engine import TaskRunEngine, _collect, _ids
from cadenza.exceptions import MappingLengthMismatch
from cadenza.futures import FutureList, TaskRunFuture, allow_failure, unmapped
from cadenza.runners.base import TaskRunner
from cadenza.states import State

if TYPE_CHECKING:
    from cadenza.tasks import Task

_default_runner: TaskRunner | None = None
_default_lock = threading.Lock()


def _runner_outside_flows() -> TaskRunner:
    global _default_runner
    if _default_runner is None:
        with _default_lock:
            if _default_runner is None:
                from cadenza.runners.threads import ThreadPoolTaskRunner

                _default_runner = ThreadPoolTaskRunner()
    return _default_runner


def submit_task(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any
) -> TaskRunFuture[Any]:
    """Record the task run as Pending now; run it once its upstream runs are final.

    A run waiting for upstream futures does not hold a thread of the runner: it is
    handed to the runner by the last upstream future to finish, so a deep graph
    cannot exhaust the pool.
    """
    flow_ctx = FlowRunContext.get()
    runner = flow_ctx.task_runner if flow_ctx is not None else _runner_outside_flows()
    upstream = _collect(args, kwargs, wait_for)
    engine = TaskRunEngine(task, args, kwargs, upstream, _ids(wait_for))
    result: cf.Future[State] = cf.Future()
    future: TaskRunFuture[Any] = TaskRunFuture(engine.task_run, result)
    context = contextvars.copy_context()

    def run() -> None:
        result.set_result(context.run(engine.run_in_worker))

    def start() -> None:
        try:
            runner.submit(run)
        except BaseException as exc:  # the runner is shut down or broken
            from cadenza.states import Crashed

            result.set_result(engine.set_state(Crashed(exception=exc)))

    pending = [f for f, _ in upstream or () if not f.done()]
    if not pending:
        start()
    else:
        remaining = [len(pending)]
        lock = threading.Lock()

        def on_upstream_done(_: object) -> None:
            with lock:
                remaining[0] -= 1
                ready = remaining[0] == 0
            if ready:
                start()

        for f in pending:
            f._cf.add_done_callback(on_upstream_done)
    if flow_ctx is not None:
        flow_ctx.futures.append(future)
    return future


def map_task(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any
) -> FutureList[Any]:
    """One task run per element of the iterable arguments (``unmapped`` ones are passed whole)."""
    parameters = task.bind(args, kwargs)
    iterables: dict[str, list[Any]] = {}
    static: dict[str, Any] = {}
    for name, value in parameters.items():
        if isinstance(value, TaskRunFuture):
            value = value.result()
        if isinstance(value, unmapped):
            static[name] = value.value
        elif isinstance(value, allow_failure | str | bytes | dict):
            static[name] = value
        else:
            try:
                iterables[name] = list(value)
            except TypeError:
                static[name] = value
    if not iterables:
        raise TypeError(
            f"{task.name}.map() needs at least one iterable argument to map over; "
            f"got {', '.join(parameters) or 'none'}. Call {task.name}.submit() for a single run."
        )
    lengths = {name: len(values) for name, values in iterables.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{n}={k}" for n, k in lengths.items())
        raise MappingLengthMismatch(
            f"{task.name}.map() got iterables of different lengths ({detail}). Give them "
            "the same length, or wrap arguments that should not be mapped in unmapped(...)."
        )
    n = next(iter(lengths.values()))
    futures: FutureList[Any] = FutureList()
    for i in range(n):
        call = dict(static)
        for name, values in iterables.items():
            call[name] = values[i]
        futures.append(submit_task(task, (), call, wait_for))
    return futures
