"""The run context: which flow run and task run the current code belongs to."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import CadenzaError

if TYPE_CHECKING:
    import logging

    from cadenza.flows import Flow
    from cadenza.futures import TaskRunFuture
    from cadenza.reporting.base import Reporter
    from cadenza.runners.base import TaskRunner
    from cadenza.runs import FlowRun, TaskRun
    from cadenza.tasks import Task


class MissingContextError(CadenzaError, RuntimeError):
    """Raised when run context is needed outside of a flow run or task run."""


class FlowRunContext:
    """What code inside a flow run can reach: the flow, its run, the task runner."""

    __slots__ = (
        "_logger",
        "_token",
        "concurrency_limits",
        "dynamic_keys",
        "flow",
        "flow_run",
        "futures",
        "log_prints",
        "previous_subflows",
        "record_inputs",
        "reporter",
        "task_runner",
        "tracked_params",
    )

    tracked_params: dict[str, str]
    """Params logged on the run in this process (set on first use by cadenza.tracking)."""

    def __init__(
        self,
        flow: Flow[Any, Any],
        flow_run: FlowRun,
        reporter: Reporter,
        task_runner: TaskRunner,
        log_prints: bool,
    ) -> None:
        self.flow = flow
        self.flow_run = flow_run
        self.reporter = reporter
        self.task_runner = task_runner
        self.log_prints = log_prints
        from cadenza.settings import get_settings

        self.record_inputs = get_settings().record_inputs
        self.dynamic_keys: dict[str, int] = {}
        self.previous_subflows: dict[tuple[str, int], str] = {}
        """Subflow runs of earlier attempts, by (flow name, call index), when resuming."""
        self.futures: list[TaskRunFuture[Any]] = []
        self.concurrency_limits: dict[str, int] | None = None
        """The concurrency limits by tag, read on the first task run with a tag."""
        self._logger: logging.LoggerAdapter[Any] | None = None
        self._token: Any = None

    def next_dynamic_key(self, task_key: str) -> int:
        """0, 1, 2... for successive runs of the same task in this flow run."""
        keys = self.dynamic_keys
        n = keys.get(task_key, 0)
        keys[task_key] = n + 1
        return n

    @classmethod
    def get(cls) -> FlowRunContext | None:
        """The flow run context of the calling code, or None outside a flow run."""
        return _flow_run_ctx.get()


class TaskRunContext:
    """What code inside a task run can reach: the task, its run."""

    __slots__ = ("_logger", "flow_run_context", "log_prints", "task", "task_run", "tracked_params")

    tracked_params: dict[str, str]
    """Params logged on the run in this process (set on first use by cadenza.tracking)."""

    def __init__(
        self,
        task: Task[Any, Any],
        task_run: TaskRun,
        flow_run_context: FlowRunContext | None,
        log_prints: bool,
    ) -> None:
        self.task = task
        self.task_run = task_run
        self.flow_run_context = flow_run_context
        self.log_prints = log_prints
        self._logger: logging.LoggerAdapter[Any] | None = None

    @classmethod
    def get(cls) -> TaskRunContext | None:
        """The task run context of the calling code, or None outside a task run."""
        return _task_run_ctx.get()


_flow_run_ctx: ContextVar[FlowRunContext | None] = ContextVar("cadenza_flow_run", default=None)
_task_run_ctx: ContextVar[TaskRunContext | None] = ContextVar("cadenza_task_run", default=None)
_tags: ContextVar[frozenset[str]] = ContextVar("cadenza_tags", default=frozenset())


def get_run_context() -> TaskRunContext | FlowRunContext:
    """The innermost run context: the task run's inside a task, else the flow run's.

    Raises:
        MissingContextError: called outside a flow run or task run.
    """
    ctx = _task_run_ctx.get() or _flow_run_ctx.get()
    if ctx is None:
        raise MissingContextError(
            "There is no active flow run or task run: call this from inside a function "
            "decorated with @flow or @task."
        )
    return ctx


@contextlib.contextmanager
def tags(*new_tags: str) -> Iterator[frozenset[str]]:
    """Add tags to every flow run and task run created inside the block.

    Example:
        >>> with tags("nightly", "taxi"):
        ...     train()
    """
    current = _tags.get()
    token = _tags.set(current | frozenset(new_tags))
    try:
        yield _tags.get()
    finally:
        _tags.reset(token)


def current_tags() -> frozenset[str]:
    return _tags.get()
