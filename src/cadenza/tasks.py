"""``@task``: a step of a pipeline, recorded as a task run each time it is called."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable
from datetime import timedelta
from functools import update_wrapper
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, overload

from cadenza.cache_policies import CachePolicy
from cadenza.engine.retries import RetryDelay, check_retry_options, exponential_backoff
from cadenza.futures import FutureList, TaskRunFuture
from cadenza.results.serializers import Serializer
from cadenza.results.storage import ResultStorage
from cadenza.settings import get_settings
from cadenza.states import State

P = ParamSpec("P")
R = TypeVar("R")

TaskHook = Callable[..., Any]
"""``hook(task, task_run, state)``, called after the run's final state."""

_UNSET: Any = object()
__all__ = ["Task", "exponential_backoff", "task", "task_input_hash"]


def _check_hooks(
    owner: str, kind: str, hooks: Iterable[TaskHook] | TaskHook | None
) -> list[TaskHook]:
    if hooks is None:
        return []
    if callable(hooks):
        hooks = [hooks]
    out = list(hooks)
    for h in out:
        if not callable(h):
            raise TypeError(f"{owner}: {kind} hooks must be callables, got {h!r}.")
    return out


def _check_timeout(owner: str, timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"{owner}: timeout_seconds must be a positive number, got {timeout!r}.")
    return float(timeout)


class Task(Generic[P, R]):
    """A function whose calls are task runs: retried, timed out, logged and recorded.

    Create tasks with the :func:`task` decorator. Calling the task inside a flow runs
    it and returns its result; :meth:`submit` and :meth:`map` run it concurrently on
    the flow's task runner and return futures.
    """

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        tags: Iterable[str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay | None = None,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[[Task[Any, Any], Any, State], bool] | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        task_run_name: str | Callable[[], str] | None = None,
        on_completion: Iterable[TaskHook] | TaskHook | None = None,
        on_failure: Iterable[TaskHook] | TaskHook | None = None,
        cache_policy: CachePolicy | None = None,
        cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None = None,
        cache_expiration: timedelta | None = None,
        refresh_cache: bool | None = None,
        persist_result: bool | None = None,
        result_storage: str | Path | ResultStorage | None = None,
        result_serializer: str | Serializer | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@task must decorate a function, got {fn!r}.")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        owner = f"task {self.name!r}"
        self.description = description if description is not None else inspect.getdoc(fn)
        self.version = version
        self.tags = frozenset(tags or ())
        self.sorted_tags = sorted(self.tags)
        check_retry_options(owner, retries, retry_delay_seconds, retry_jitter_factor)
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_jitter_factor = retry_jitter_factor
        if retry_condition_fn is not None and not callable(retry_condition_fn):
            raise TypeError(f"{owner}: retry_condition_fn must be a callable.")
        self.retry_condition_fn = retry_condition_fn
        self.timeout_seconds = _check_timeout(owner, timeout_seconds)
        self.log_prints = log_prints
        self.task_run_name = task_run_name
        self.on_completion_hooks = _check_hooks(owner, "on_completion", on_completion)
        self.on_failure_hooks = _check_hooks(owner, "on_failure", on_failure)
        self.has_hooks = bool(self.on_completion_hooks or self.on_failure_hooks)
        from cadenza.engine.caching import check_task_options

        check_task_options(owner, cache_policy, cache_key_fn, cache_expiration, result_serializer)
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.has_result_options = (
            cache_policy is not None or cache_key_fn is not None or bool(persist_result)
        )
        self.is_async = inspect.iscoroutinefunction(fn)
        module = _module_name(fn)
        qualname = getattr(fn, "__qualname__", self.name)
        self.task_key = f"{module}.{qualname}"
        if self.name != getattr(fn, "__name__", None):
            self.task_key += f"[{self.name}]"
        self._signature: inspect.Signature | None = None
        self._fast_names: tuple[str, ...] | None = _fast_names(fn)
        update_wrapper(self, fn)

    # -- calling ---------------------------------------------------------------------------
    @overload
    def __call__(
        self: Task[P, Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, R]: ...

    @overload
    def __call__(self: Task[P, R], *args: P.args, **kwargs: P.kwargs) -> R: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task now and return its result (raise its exception).

        With ``return_state=True`` the final :class:`State` is returned instead.
        ``wait_for`` lists futures that must finish first. For an async task this
        returns a coroutine to await.
        """
        return_state = kwargs.pop("return_state", False) if kwargs else False
        wait_for = kwargs.pop("wait_for", None) if kwargs else None
        call = _engine_call or _load_engine()
        return call(self, args, kwargs, wait_for, return_state)

    def submit(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> TaskRunFuture[R]:
        """Start a task run on the flow's task runner; returns a future of its result.

        Futures among the arguments are resolved first: the run starts when they are
        final, and does not run (``NotReady``) if one of them failed, unless it is
        wrapped in :class:`~cadenza.allow_failure`.
        """
        from cadenza.engine.submit import submit_task

        return submit_task(self, args, kwargs, wait_for)

    def map(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> FutureList[R]:
        """Submit one task run per element of the iterable arguments.

        Iterables are mapped element-wise and must have the same length; strings,
        bytes, dicts and values wrapped in :class:`~cadenza.unmapped` are passed
        whole to every run.
        """
        from cadenza.engine.submit import map_task

        return map_task(self, args, kwargs, wait_for)

    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy of this task with some options changed (same names as :func:`task`)."""
        current: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "tags": self.tags,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "retry_jitter_factor": self.retry_jitter_factor,
            "retry_condition_fn": self.retry_condition_fn,
            "timeout_seconds": self.timeout_seconds,
            "log_prints": self.log_prints,
            "task_run_name": self.task_run_name,
            "on_completion": self.on_completion_hooks,
            "on_failure": self.on_failure_hooks,
            "cache_policy": self.cache_policy,
            "cache_key_fn": self.cache_key_fn,
            "cache_expiration": self.cache_expiration,
            "refresh_cache": self.refresh_cache,
            "persist_result": self.persist_result,
            "result_storage": self.result_storage,
            "result_serializer": self.result_serializer,
        }
        unknown = set(options) - set(current)
        if unknown:
            raise TypeError(
                f"Unknown task option(s): {', '.join(sorted(unknown))}. "
                f"Options are: {', '.join(current)}."
            )
        current.update(options)
        return Task(self.fn, **current)

    # -- helpers for the engine ---------------------------------------------------------------
    @property
    def signature(self) -> inspect.Signature:
        if self._signature is None:
            self._signature = inspect.signature(self.fn)
        return self._signature

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Arguments by parameter name (defaults not filled in)."""
        names = self._fast_names
        if names is not None and len(args) <= len(names):
            bound = dict(zip(names, args, strict=False))
            if kwargs:
                bound.update(kwargs)
            return bound
        try:
            return dict(self.signature.bind_partial(*args, **kwargs).arguments)
        except TypeError:
            return {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}

    def bind_with_defaults(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any] | None:
        """All arguments by name, defaults included; None if the call does not fit."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        return dict(bound.arguments)

    @staticmethod
    def record_inputs() -> bool:
        return get_settings().record_inputs

    def run_name(
        self,
        dynamic_key: int,
        parameters: dict[str, Any] | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> str:
        template = self.task_run_name
        if template is None:
            return f"{self.name}-{dynamic_key}"
        try:
            if callable(template):
                return str(template())
            return template.format(**(parameters or self.bind(args, kwargs)))
        except Exception as exc:
            return f"{self.name}-{dynamic_key} (task_run_name failed: {exc})"

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """Tasks defined as methods bind ``self`` like functions do."""
        if instance is None:
            return self
        import functools

        bound = functools.partial(self.__call__, instance)
        bound.submit = functools.partial(self.submit, instance)  # type: ignore[attr-defined]
        bound.map = functools.partial(self.map, instance)  # type: ignore[attr-defined]
        return bound


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str | None:
    """A ``cache_key_fn`` hashing the task, its source code and its arguments.

    Prefect's helper of the same name: ``@task(cache_key_fn=task_input_hash)``.
    """
    from cadenza.cache_policies import source_hash
    from cadenza.hashing import hash_objects

    task = context.task
    return hash_objects(task.task_key, source_hash(task.fn), arguments)


_engine_call: Callable[..., Any] | None = None


def _load_engine() -> Callable[..., Any]:
    """Import the engine on the first task call (it is not needed by ``import cadenza``)."""
    global _engine_call
    from cadenza.engine.task_engine import call_task

    _engine_call = call_task
    return call_task


def _module_name(fn: Callable[..., Any]) -> str:
    """The module part of a task key: the same whether the file defining the task
    runs as a script (``__main__``) or is loaded from an entrypoint."""
    module = getattr(fn, "__module__", None) or "__main__"
    if module == "__main__" or module.startswith("cadenza_entry_"):
        try:
            source = inspect.getsourcefile(fn)
        except TypeError:
            source = None
        if source:
            return Path(source).stem
    return module


def _fast_names(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """Parameter names when positional arguments map to them one to one."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    names = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            return None
        if p.kind is p.POSITIONAL_OR_KEYWORD:
            names.append(p.name)
    return tuple(names)


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(
    __fn: None = None,
    *,
    name: str | None = ...,
    description: str | None = ...,
    version: str | None = ...,
    tags: Iterable[str] | None = ...,
    retries: int | None = ...,
    retry_delay_seconds: RetryDelay | None = ...,
    retry_jitter_factor: float | None = ...,
    retry_condition_fn: Callable[[Task[Any, Any], Any, State], bool] | None = ...,
    timeout_seconds: float | None = ...,
    log_prints: bool | None = ...,
    task_run_name: str | Callable[[], str] | None = ...,
    on_completion: Iterable[TaskHook] | TaskHook | None = ...,
    on_failure: Iterable[TaskHook] | TaskHook | None = ...,
    cache_policy: CachePolicy | None = ...,
    cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None = ...,
    cache_expiration: timedelta | None = ...,
    refresh_cache: bool | None = ...,
    persist_result: bool | None = ...,
    result_storage: str | Path | ResultStorage | None = ...,
    result_serializer: str | Serializer | None = ...,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Callable[P, R] | None = None, **options: Any) -> Any:
    """Make a function a task: each call is a task run with retries, timeouts, logs.

    Usable bare (``@task``) or with options (``@task(retries=3)``).

    Args:
        name: the task's name (default: the function's name).
        description: shown in the UI (default: the docstring).
        version: a version string recorded with each run.
        tags: tags recorded on each run.
        retries: how many times to retry a failed run.
        retry_delay_seconds: seconds before each retry: a number, a list (one per
            retry, the last one repeating) or ``exponential_backoff(backoff_factor)``.
        retry_jitter_factor: randomize each delay by up to this fraction.
        retry_condition_fn: ``fn(task, task_run, state) -> bool``; retry only if True.
        timeout_seconds: stop the function after this many seconds (state TimedOut).
        log_prints: send ``print()`` output to the run's logs too.
        task_run_name: a template like ``"train-{model}"`` filled from the
            parameters, or a callable returning the name.
        on_completion: hooks called after the run completes.
        on_failure: hooks called after the run fails for good.
        cache_policy: what the cache key is made of (``INPUTS``, ``TASK_SOURCE``,
            ``INPUTS + TASK_SOURCE``... from :mod:`cadenza.cache_policies`); a run
            whose key has a stored, unexpired result is not run but ``Cached``.
        cache_key_fn: ``fn(context, parameters) -> str`` computing the key instead.
        cache_expiration: how long a cached result may be reused.
        refresh_cache: run even on a cache hit, and store the new result.
        persist_result: store the result (default: when caching, or when the flow
            says so); stored results make a failed flow run resumable.
        result_storage: a folder or fsspec URL (default ``CADENZA_HOME/results``).
        result_serializer: ``"cloudpickle"`` (default) or ``"json"``.
    """
    if __fn is not None:
        return Task(__fn, **options)
    return lambda fn: Task(fn, **options)
