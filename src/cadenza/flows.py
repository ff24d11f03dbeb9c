"""``@flow``: a pipeline, recorded as a flow run each time it is called."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Coroutine, Iterable
from functools import update_wrapper
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, overload

from cadenza.engine.retries import RetryDelay, check_retry_options
from cadenza.results.serializers import Serializer
from cadenza.results.storage import ResultStorage
from cadenza.runners.base import TaskRunner
from cadenza.tasks import _check_hooks, _check_timeout

P = ParamSpec("P")
R = TypeVar("R")

FlowHook = Callable[..., Any]
"""``hook(flow, flow_run, state)``, called after the run's final state."""


class Flow(Generic[P, R]):
    """A function whose calls are flow runs. Create flows with :func:`flow`."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        tags: Iterable[str] | None = None,
        flow_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        log_prints: bool | None = None,
        task_runner: TaskRunner | None = None,
        on_completion: Iterable[FlowHook] | FlowHook | None = None,
        on_failure: Iterable[FlowHook] | FlowHook | None = None,
        on_cancellation: Iterable[FlowHook] | FlowHook | None = None,
        on_crashed: Iterable[FlowHook] | FlowHook | None = None,
        on_running: Iterable[FlowHook] | FlowHook | None = None,
        persist_result: bool | None = None,
        result_storage: str | Path | ResultStorage | None = None,
        result_serializer: str | Serializer | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@flow must decorate a function, got {fn!r}.")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__).replace("_", "-")
        owner = f"flow {self.name!r}"
        self.description = description if description is not None else inspect.getdoc(fn)
        self.version = version
        self.tags = frozenset(tags or ())
        self.flow_run_name = flow_run_name
        check_retry_options(owner, retries, retry_delay_seconds, None)
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds
        self.timeout_seconds = _check_timeout(owner, timeout_seconds)
        self.should_validate_parameters = validate_parameters
        self.log_prints = log_prints
        if task_runner is None:
            from cadenza.runners.threads import ThreadPoolTaskRunner

            task_runner = ThreadPoolTaskRunner()
        if isinstance(task_runner, type):
            task_runner = task_runner()
        if not isinstance(task_runner, TaskRunner):
            raise TypeError(f"{owner}: task_runner must be a TaskRunner, got {task_runner!r}.")
        self.task_runner = task_runner
        self.on_completion_hooks = _check_hooks(owner, "on_completion", on_completion)
        self.on_failure_hooks = _check_hooks(owner, "on_failure", on_failure)
        self.on_cancellation_hooks = _check_hooks(owner, "on_cancellation", on_cancellation)
        self.on_crashed_hooks = _check_hooks(owner, "on_crashed", on_crashed)
        self.on_running_hooks = _check_hooks(owner, "on_running", on_running)
        self.persist_result = persist_result
        self.result_storage = result_storage
        if result_serializer is not None:
            from cadenza.results.serializers import get_serializer

            get_serializer(result_serializer)
        self.result_serializer = result_serializer
        self.is_async = inspect.iscoroutinefunction(fn)
        self.signature = inspect.signature(fn)
        self._validator: Any = None
        self._source_version: str | None = None
        update_wrapper(self, fn)

    # -- calling -------------------------------------------------------------------------------
    @overload
    def __call__(
        self: Flow[P, Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, R]: ...

    @overload
    def __call__(self: Flow[P, R], *args: P.args, **kwargs: P.kwargs) -> R: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the flow and return its result (or raise its exception).

        Parameters are checked against the function's type hints first; invalid
        ones raise :class:`~cadenza.exceptions.ParameterTypeError` before anything
        runs. With ``return_state=True`` the final :class:`State` is returned. For
        an async flow this returns a coroutine to await.
        """
        from cadenza.engine.flow_engine import run_flow_async, run_flow_sync

        return_state = kwargs.pop("return_state", False)
        if self.is_async:
            return run_flow_async(self, args, kwargs, return_state)
        return run_flow_sync(self, args, kwargs, return_state)

    def with_options(self, **options: Any) -> Flow[P, R]:
        """A copy of this flow with some options changed (same names as :func:`flow`)."""
        current: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "tags": self.tags,
            "flow_run_name": self.flow_run_name,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "timeout_seconds": self.timeout_seconds,
            "validate_parameters": self.should_validate_parameters,
            "log_prints": self.log_prints,
            "task_runner": self.task_runner.duplicate(),
            "on_completion": self.on_completion_hooks,
            "on_failure": self.on_failure_hooks,
            "on_cancellation": self.on_cancellation_hooks,
            "on_crashed": self.on_crashed_hooks,
            "on_running": self.on_running_hooks,
            "persist_result": self.persist_result,
            "result_storage": self.result_storage,
            "result_serializer": self.result_serializer,
        }
        unknown = set(options) - set(current)
        if unknown:
            raise TypeError(
                f"Unknown flow option(s): {', '.join(sorted(unknown))}. "
                f"Options are: {', '.join(current)}."
            )
        current.update(options)
        return Flow(self.fn, **current)

    # -- helpers for the engine -------------------------------------------------------------------
    def prepare_parameters(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Bind and validate the call's arguments.

        Returns the positional and keyword arguments to call the function with, the
        parameter values by name, and their JSON form to record.

        Raises:
            ParameterTypeError: a missing, unexpected or invalid parameter.
        """
        from cadenza.engine.parameters import ParameterValidator, bind, jsonable

        owner = f"flow {self.name!r}"
        bound = bind(owner, self.signature, args, kwargs)
        if self.should_validate_parameters:
            if self._validator is None:
                self._validator = ParameterValidator(self.fn, self.signature)
            if self._validator.active:
                validated = self._validator.validate(owner, dict(bound.arguments))
                for name, value in validated.items():
                    bound.arguments[name] = value
        values = dict(bound.arguments)
        parameters = {name: jsonable(value) for name, value in values.items()}
        return bound.args, bound.kwargs, values, parameters

    def retry(self, flow_run_id: str, *, return_state: bool = False) -> Any:
        """Resume a failed, crashed or cancelled run of this flow.

        The run is executed again as a new attempt of the same flow run, with the
        same parameters. Task runs that completed and persisted their results in
        the failed attempt are not run again: they come back ``Cached``, pointing
        at the task runs that produced them, and execution continues from the
        first task without a stored result. Subflows resume likewise. If the flow's
        source changed since the run failed, a warning says so and the run
        proceeds; tasks whose source changed run again.

        Args:
            flow_run_id: the id of the run to resume.
            return_state: return the final state instead of the result.

        Raises:
            ObjectNotFound: there is no such flow run.
            NotResumable: the run is of another flow, did not fail, or its
                parameters were not stored.
        """
        from cadenza.engine.flow_engine import run_flow_async, run_flow_sync
        from cadenza.engine.resume import prepare_resume

        run, parameters = prepare_resume(self, flow_run_id)
        if self.is_async:
            return run_flow_async(self, (), parameters, return_state, resume=run)
        return run_flow_sync(self, (), parameters, return_state, resume=run)

    def deploy(
        self,
        name: str,
        *,
        work_pool_name: str,
        work_queue_name: str = "default",
        cron: str | list[str] | None = None,
        interval: float | Any | None = None,
        rrule: str | list[str] | None = None,
        timezone: str | None = None,
        anchor_date: Any = None,
        schedules: list[Any] | None = None,
        parameters: dict[str, Any] | None = None,
        tags: Iterable[str] = (),
        description: str | None = None,
        version: str | None = None,
        paused: bool = False,
        concurrency_limit: int | None = None,
        catchup: str = "all",
        entrypoint: str | None = None,
        path: str | Path | None = None,
    ) -> Any:
        """Deploy this flow: its runs then start by themselves, on the schedules given,
        on the workers of ``work_pool_name`` (created if it does not exist).

        Deploying again with the same name updates the deployment. With
        ``CADENZA_API_URL`` set, the deployment is made on that server. Returns the
        :class:`~cadenza.deploy.deployments.Deployment`.

        Args:
            name: the deployment's name (runs are ``flow-name/name``).
            work_pool_name, work_queue_name: where its runs wait for a worker.
            cron, interval, rrule: schedules (one value or a list of them); interval
                in seconds or a timedelta; all in ``timezone`` (default UTC), intervals
                counted from ``anchor_date``. ``schedules`` takes schedule objects
                (:class:`~cadenza.deploy.schedules.Cron`...).
            parameters: default parameters of its runs, checked against the flow.
            paused: create it with its schedules paused.
            concurrency_limit: how many of its runs may be active at once.
            catchup: what runs missed while workers were down do: ``all`` run,
                ``latest`` only the most recent, ``skip`` none.
            entrypoint, path: where a worker imports the flow from (default: this
                flow's file, relative to ``path``, the current folder by default).

        Raises:
            DeploymentError, ScheduleError, ParameterTypeError: an invalid option,
                named, before anything is saved.
        """
        from cadenza.deploy.deployments import deployment_from_options, save_and_schedule

        deployment = deployment_from_options(
            self,
            name,
            cron=cron,
            interval=interval,
            rrule=rrule,
            timezone=timezone,
            anchor_date=anchor_date,
            schedules=schedules,
            work_pool_name=work_pool_name,
            work_queue_name=work_queue_name,
            entrypoint=entrypoint,
            path=path,
            parameters=parameters,
            tags=tags,
            description=description,
            version=version,
            paused=paused,
            concurrency_limit=concurrency_limit,
            catchup=catchup,
        )
        return save_and_schedule(deployment)

    def serve(
        self,
        name: str,
        *,
        cron: str | list[str] | None = None,
        interval: float | Any | None = None,
        rrule: str | list[str] | None = None,
        timezone: str | None = None,
        anchor_date: Any = None,
        schedules: list[Any] | None = None,
        parameters: dict[str, Any] | None = None,
        tags: Iterable[str] = (),
        description: str | None = None,
        version: str | None = None,
        paused: bool = False,
        catchup: str = "all",
        limit: int | None = None,
    ) -> None:
        """Deploy this flow as ``name`` and run its runs in this process until Ctrl-C,
        with no separate worker: on the schedules given, and whenever a run is asked
        for (``cadenza deployment run FLOW/NAME``, or the UI's Run button).

        The deployment goes to the work pool ``serve``, in a queue of its own; each run
        executes in a subprocess. Without a server this process also creates the
        scheduled runs and watches for crashed ones; with ``CADENZA_API_URL`` set, the
        server does. Options are those of :meth:`deploy`; ``limit`` bounds the runs
        at once.

        Raises:
            DeploymentError, ScheduleError, ParameterTypeError: an invalid option,
                named, before anything is saved.
        """
        from cadenza.deploy.serve import serve

        serve(
            self,
            name,
            limit=limit,
            cron=cron,
            interval=interval,
            rrule=rrule,
            timezone=timezone,
            anchor_date=anchor_date,
            schedules=schedules,
            parameters=parameters,
            tags=tags,
            description=description,
            version=version,
            paused=paused,
            catchup=catchup,
        )

    @property
    def entrypoint(self) -> str | None:
        """``module:function`` or ``path/to/file.py:function`` to import this flow
        from, or None for a flow defined inside a function."""
        fn = self.fn
        qualname = getattr(fn, "__qualname__", "")
        if not qualname or "<locals>" in qualname:
            return None
        module = getattr(fn, "__module__", None)
        if module and module != "__main__":
            return f"{module}:{qualname}"
        try:
            path = inspect.getsourcefile(fn)
        except TypeError:
            return None
        return f"{path}:{qualname}" if path else None

    def run_name(self, parameters: dict[str, Any]) -> str:
        from cadenza.utilities.names import generate_run_name

        template = self.flow_run_name
        if template is None:
            return generate_run_name()
        try:
            if callable(template):
                return str(template())
            return template.format(**parameters)
        except Exception as exc:
            return f"{generate_run_name()} (flow_run_name failed: {exc})"

    def resolved_version(self) -> str | None:
        """The ``version`` given, else a short hash of the file defining the flow."""
        if self.version is not None:
            return self.version
        if self._source_version is None:
            try:
                path = inspect.getsourcefile(self.fn)
                with open(path or "", "rb") as f:
                    self._source_version = hashlib.blake2b(f.read(), digest_size=8).hexdigest()
            except (OSError, TypeError):
                self._source_version = ""
        return self._source_version or None

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...


@overload
def flow(
    __fn: None = None,
    *,
    name: str | None = ...,
    description: str | None = ...,
    version: str | None = ...,
    tags: Iterable[str] | None = ...,
    flow_run_name: str | Callable[[], str] | None = ...,
    retries: int | None = ...,
    retry_delay_seconds: RetryDelay | None = ...,
    timeout_seconds: float | None = ...,
    validate_parameters: bool = ...,
    log_prints: bool | None = ...,
    task_runner: TaskRunner | None = ...,
    on_completion: Iterable[FlowHook] | FlowHook | None = ...,
    on_failure: Iterable[FlowHook] | FlowHook | None = ...,
    on_cancellation: Iterable[FlowHook] | FlowHook | None = ...,
    on_crashed: Iterable[FlowHook] | FlowHook | None = ...,
    on_running: Iterable[FlowHook] | FlowHook | None = ...,
    persist_result: bool | None = ...,
    result_storage: str | Path | ResultStorage | None = ...,
    result_serializer: str | Serializer | None = ...,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Callable[P, R] | None = None, **options: Any) -> Any:
    """Make a function a flow: each call is a recorded flow run.

    Usable bare (``@flow``) or with options (``@flow(retries=2, log_prints=True)``).

    Args:
        name: the flow's name (default: the function's name, ``_`` as ``-``).
        description: shown in the UI (default: the docstring).
        version: recorded with each run (default: a hash of the flow's source file).
        tags: tags recorded on each run.
        flow_run_name: a template such as ``"train-{month}"`` filled from the
            parameters, or a callable; default a random ``adjective-animal`` name.
        retries: how many times to rerun a failed flow run.
        retry_delay_seconds: seconds to wait before each retry.
        timeout_seconds: stop the flow after this many seconds (state TimedOut).
        validate_parameters: check and coerce parameters against the type hints.
        log_prints: send ``print()`` output of the flow and its tasks to the logs.
        task_runner: where submitted tasks run (default ``ThreadPoolTaskRunner()``).
        on_completion, on_failure, on_cancellation, on_crashed, on_running: hooks
            ``fn(flow, flow_run, state)``; a hook that raises is logged, not raised.
        persist_result: store the results of this flow's tasks (unless a task says
            otherwise), which makes a failed run resumable with ``flow.retry()``.
        result_storage: default result storage of its tasks (folder or fsspec URL).
        result_serializer: default serializer of its tasks' results.
    """
    if __fn is not None:
        return Flow(__fn, **options)
    return lambda fn: Flow(fn, **options)
