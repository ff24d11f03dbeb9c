"""Running one task run: states, retries, timeouts, hooks.

The loop is the same for sync and async functions; only the call differs
(:meth:`TaskRunEngine.run_sync` and :meth:`TaskRunEngine.run_async`). The retry
decision is made in one place, :meth:`TaskRunEngine.handle_exception`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from cadenza.context import TaskRunContext, _flow_run_ctx, _tags, _task_run_ctx
from cadenza.engine.caching import ResultOptions, compute_key, lookup, persist, result_options
from cadenza.engine.inputs import find_futures, has_special, resolve
from cadenza.engine.retries import retry_delay
from cadenza.engine.timeouts import Timeout
from cadenza.events import TaskRunCreated, TaskRunStateChanged
from cadenza.exceptions import (
    TaskRunTimeoutError,
    TerminationSignal,
    TimeoutSignal,
    UpstreamTaskError,
)
from cadenza.futures import TaskRunFuture
from cadenza.reporting import get_reporter
from cadenza.reporting.base import Reporter
from cadenza.runs import TaskRun
from cadenza.settings import get_settings
from cadenza.states import (
    AwaitingRetry,
    Cancelled,
    Crashed,
    Failed,
    Retrying,
    Running,
    State,
    StateType,
    TimedOut,
    quick_state,
)
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.tasks import Task

logger = logging.getLogger("cadenza.task_runs")
_COMPLETED = StateType.COMPLETED
_PENDING = StateType.PENDING
_RUNNING = StateType.RUNNING
_now = time.time


class TaskRunEngine:
    """One task run from Pending to a final state.

    Created in the caller's thread (so that the run is recorded, Pending, in call
    order); :meth:`run_sync`/:meth:`run_async` may then execute in another thread.
    """

    __slots__ = (
        "args",
        "cache_key",
        "flow_ctx",
        "holds_slots",
        "kwargs",
        "log_prints",
        "reporter",
        "results",
        "state",
        "task",
        "task_run",
        "upstream",
    )

    def __init__(
        self,
        task: Task[Any, Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        upstream: list[tuple[TaskRunFuture[Any], bool]] | None = None,
        wait_for_ids: list[str] | None = None,
    ) -> None:
        # This runs once per task call: it is written for speed (no helper calls
        # where an inline expression does).
        flow_ctx = _flow_run_ctx.get()
        parent = _task_run_ctx.get()
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.flow_ctx = flow_ctx
        self.upstream = upstream
        self.results: ResultOptions | None = None
        self.cache_key: str | None = None
        self.holds_slots = False
        log_prints = task.log_prints
        if flow_ctx is not None:
            self.reporter = reporter = flow_ctx.reporter
            keys = flow_ctx.dynamic_keys
            key = task.task_key
            dynamic_key = keys.get(key, 0)
            keys[key] = dynamic_key + 1
            flow_run_id: str | None = flow_ctx.flow_run.id
            record_inputs = flow_ctx.record_inputs
            if log_prints is None:
                log_prints = flow_ctx.log_prints
        else:
            self.reporter = reporter = _standalone()
            dynamic_key = 0
            flow_run_id = parent.task_run.flow_run_id if parent is not None else None
            record_inputs = get_settings().record_inputs
        self.log_prints = bool(log_prints)
        parameters = task.bind(args, kwargs) if record_inputs else None
        ctx_tags = _tags.get()
        now = _now()
        task_run = TaskRun(
            uuid7(),
            f"{task.name}-{dynamic_key}"
            if task.task_run_name is None
            else task.run_name(dynamic_key, parameters, args, kwargs),
            task.task_key,
            flow_run_id,
            dynamic_key,
            now,
            sorted(task.tags | ctx_tags) if ctx_tags else task.sorted_tags,
            parent.task_run.id if parent is not None else None,
            "task",
            None,
            task.version,
            parameters,
            None,
            _upstream_ids(task, upstream, args, kwargs, wait_for_ids)
            if upstream or wait_for_ids
            else None,
        )
        self.task_run = task_run
        self.state = task_run.state = state = quick_state(_PENDING, "Pending", now)
        reporter.emit(TaskRunCreated(task_run, state))

    def set_state(self, state: State) -> State:
        self.state = state
        self.task_run.state = state
        self.reporter.emit(TaskRunStateChanged(self.task_run.id, state))
        return state

    # -- before the first attempt ---------------------------------------------------------
    def prepare_call(self) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """Check upstream runs and resolve futures in the arguments.

        Returns the arguments to call the function with, or None when an upstream
        run did not complete (the run is then final, ``NotReady``).
        """
        if not self.upstream:
            return self.args, self.kwargs
        for future, allowed in self.upstream:
            state = future.final_state()
            if state.type is not _COMPLETED and not allowed:
                upstream = future.task_run
                err = UpstreamTaskError(
                    f"Upstream task run {upstream.name!r} ({upstream.id}) ended in state "
                    f"{state.name}; {self.task_run.name!r} did not run. Wrap the input in "
                    "allow_failure(...) to run it anyway."
                )
                self.set_state(Failed("NotReady", exception=err, traceback=None))
                return None
        return tuple(resolve(a) for a in self.args), {k: resolve(v) for k, v in self.kwargs.items()}

    # -- one attempt ----------------------------------------------------------------------
    def handle_exception(self, exc: BaseException, attempt: int) -> float | None:
        """Record a failed attempt. Returns the delay before a retry, or None when final.

        Control exceptions (KeyboardInterrupt, SystemExit, termination, task
        cancellation) crash the run and are not retried.
        """
        task = self.task
        if isinstance(exc, TimeoutSignal):
            exc = TaskRunTimeoutError(
                f"Task run {self.task_run.name!r} exceeded its timeout of "
                f"{task.timeout_seconds} seconds and was stopped."
            )
            failed = TimedOut(exception=exc)
        elif isinstance(exc, Exception):
            failed = Failed(exception=exc)
        else:
            self.set_state(interrupted_state(exc, self.reporter, self.task_run.flow_run_id))
            return None
        if attempt <= task.retries and self._should_retry(failed):
            delay = retry_delay(
                task.retry_delay_seconds, task.retries, attempt, task.retry_jitter_factor
            )
            self.set_state(
                AwaitingRetry(
                    _now() + delay,
                    message=failed.message,
                    error_type=failed.error_type,
                    traceback=failed.traceback,
                    exception=failed.exception,
                )
            )
            logger.warning(
                "Failed (%s); retry %d of %d in %.3g s.",
                failed.message,
                attempt,
                task.retries,
                delay,
                extra=self._log_extra(),
            )
            return delay
        self.set_state(failed)
        logger.error(
            "Finished in state %s: %s",
            failed.name,
            failed.message,
            extra=self._log_extra(),
        )
        return None

    def _should_retry(self, failed: State) -> bool:
        condition = self.task.retry_condition_fn
        if condition is None:
            return True
        try:
            return bool(condition(self.task, self.task_run, failed))
        except Exception:
            logger.exception(
                "retry_condition_fn of task %r raised; not retrying.",
                self.task.name,
                extra=self._log_extra(),
            )
            return False

    def _log_extra(self) -> dict[str, Any]:
        tr = self.task_run
        return {
            "flow_run_id": tr.flow_run_id,
            "task_run_id": tr.id,
            "run_label": f"Task run {tr.name!r}",
        }

    # -- results and caching ------------------------------------------------------------------
    def wants_results(self) -> bool:
        flow_ctx = self.flow_ctx
        return self.task.has_result_options or (
            flow_ctx is not None and bool(flow_ctx.flow.persist_result)
        )

    def begin_results(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], run_ctx: TaskRunContext
    ) -> bool:
        """Resolve where results go and look the cache up.

        Returns True when the run is over already: a cached result was found (state
        ``Cached``) or the cache key could not be computed (state ``Failed``).
        """
        task = self.task
        options = self.results = result_options(task, self.flow_ctx)
        if options is None or options.policy is None:
            return False
        inputs = task.bind_with_defaults(args, kwargs)
        if inputs is None:  # the call does not match the signature: let it raise
            return False
        try:
            key = compute_key(options, task, self.task_run, self.flow_ctx, run_ctx, inputs)
        except Exception as exc:  # an unhashable input, or a cache_key_fn that raised
            self.set_state(Failed(exception=exc, traceback=None))
            logger.error("%s", exc, extra=self._log_extra())
            return True
        self.cache_key = key
        if key is None:
            return False
        cached = lookup(options, key, self.task_run)
        if cached is None:
            return False
        self.set_state(cached)
        return True

    def completed(self, result: Any) -> State:
        """The Completed state of a successful attempt, with the result stored if asked."""
        options = self.results
        if options is None:
            return quick_state(_COMPLETED, "Completed", _now(), result)
        details = persist(options, self.cache_key, self.task, self.task_run, result)
        return State(_COMPLETED, "Completed", result=result, data=details)

    # -- after the final state ------------------------------------------------------------
    def finish(self) -> State:
        if self.task.has_hooks:
            self.run_hooks()
        return self.state

    def run_hooks(self) -> None:
        task = self.task
        hooks = task.on_completion_hooks if self.state.type is _COMPLETED else task.on_failure_hooks
        if not hooks or self.state.type not in (StateType.COMPLETED, StateType.FAILED):
            return
        for hook in hooks:
            try:
                hook(task, self.task_run, self.state)
            except Exception:
                logger.exception(
                    "Hook %r of task run %r raised; the run's state is unchanged.",
                    getattr(hook, "__name__", hook),
                    self.task_run.name,
                    extra=self._log_extra(),
                )

    # -- concurrency limits by tag ------------------------------------------------------------
    def _limits(self) -> dict[str, int]:
        from cadenza.deploy.concurrency import limited_tags

        return limited_tags(self.task_run.tags, self.flow_ctx)

    def _limit_failed(self, exc: Exception) -> bool:
        self.set_state(Failed(exception=exc, traceback=None))
        logger.error("%s", exc, extra=self._log_extra())
        return False

    def take_slots(self) -> bool:
        """Take a slot of each limited tag of the run, waiting for them; False when the
        run cannot run (a limit of 0: it is Failed then)."""
        limits = self._limits()
        if not limits:
            return True
        from cadenza.deploy.concurrency import take
        from cadenza.exceptions import ConcurrencyLimitError

        try:
            take(limits, self.task_run.id, self.task_run.name, self._log_extra())
        except ConcurrencyLimitError as exc:
            return self._limit_failed(exc)
        self.holds_slots = True
        return True

    async def take_slots_async(self) -> bool:
        """:meth:`take_slots` without blocking the event loop."""
        limits = self._limits()
        if not limits:
            return True
        from cadenza.deploy.concurrency import take_async
        from cadenza.exceptions import ConcurrencyLimitError

        try:
            await take_async(limits, self.task_run.id, self.task_run.name, self._log_extra())
        except ConcurrencyLimitError as exc:
            return self._limit_failed(exc)
        self.holds_slots = True
        return True

    def release_slots(self) -> None:
        from cadenza.deploy.concurrency import release

        self.holds_slots = False
        release(self.task_run.id)

    # -- the loops --------------------------------------------------------------------------
    def run_sync(self) -> State:
        call = self.prepare_call()
        if call is None:
            return self.state
        args, kwargs = call
        task = self.task
        fn = task.fn
        timeout = task.timeout_seconds
        task_run = self.task_run
        emit = self.reporter.emit
        run_ctx = TaskRunContext(task, task_run, self.flow_ctx, self.log_prints)
        token = _task_run_ctx.set(run_ctx)
        try:
            if self.wants_results() and self.begin_results(args, kwargs, run_ctx):
                return self.finish()
            if task_run.tags and not self.take_slots():
                return self.finish()
            attempt = task_run.run_count = 1
            self.state = task_run.state = state = quick_state(_RUNNING, "Running", _now())
            emit(TaskRunStateChanged(task_run.id, state))
            while True:
                try:
                    if timeout is None:
                        result = fn(*args, **kwargs)
                    else:
                        with Timeout(timeout):
                            result = fn(*args, **kwargs)
                except BaseException as exc:
                    delay = self.handle_exception(exc, attempt)
                    if delay is None:
                        break
                    if delay > 0:
                        time.sleep(delay)
                    attempt = task_run.run_count = attempt + 1
                    self.set_state(Retrying())
                    continue
                self.state = task_run.state = state = self.completed(result)
                emit(TaskRunStateChanged(task_run.id, state))
                break
        finally:
            if self.holds_slots:
                self.release_slots()
            _task_run_ctx.reset(token)
        return self.finish()

    async def run_async(self) -> State:
        call = self.prepare_call()
        if call is None:
            return self.state
        args, kwargs = call
        task = self.task
        run_ctx = TaskRunContext(task, self.task_run, self.flow_ctx, self.log_prints)
        token = _task_run_ctx.set(run_ctx)
        try:
            if self.wants_results() and self.begin_results(args, kwargs, run_ctx):
                return self.finish()
            if self.task_run.tags and not await self.take_slots_async():
                return self.finish()
            attempt = self.task_run.run_count = 1
            self.set_state(Running())
            while True:
                try:
                    result = await call_async(task.fn, args, kwargs, task.timeout_seconds)
                except BaseException as exc:
                    delay = self.handle_exception(exc, attempt)
                    if delay is None:
                        break
                    await _sleep(delay)
                    attempt = self.task_run.run_count = attempt + 1
                    self.set_state(Retrying())
                    continue
                self.set_state(self.completed(result))
                break
        finally:
            if self.holds_slots:
                self.release_slots()
            _task_run_ctx.reset(token)
        return self.finish()

    def run_in_worker(self) -> State:
        """Run in a task runner's thread: never raises, always returns a final state."""
        try:
            if self.task.is_async:
                import asyncio

                return asyncio.run(self.run_async())
            return self.run_sync()
        except BaseException as exc:  # a bug in cadenza itself: record it, don't hang
            return self.set_state(Crashed(exception=exc))


def interrupted_state(exc: BaseException, reporter: Reporter, flow_run_id: str | None) -> State:
    """The state of a run stopped by ``exc`` (an interrupt, not an error of its code):
    Cancelled when the process was told to stop because someone cancelled the flow
    run, Crashed otherwise."""
    if (
        isinstance(exc, TerminationSignal)
        and flow_run_id
        and reporter.cancel_requested(flow_run_id)
    ):
        # The signal itself goes on up, so that the flow ends as interrupted too.
        return Cancelled(message="Cancelled on request", exception=exc)
    return Crashed(exception=exc, message=f"Interrupted by {type(exc).__name__}")


async def call_async(
    fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float | None
) -> Any:
    """Await ``fn(*args, **kwargs)``; past ``timeout`` seconds raise :class:`TimeoutSignal`.

    A TimeoutError raised by the function itself stays an ordinary failure.
    """
    if timeout is None:
        return await fn(*args, **kwargs)
    import asyncio

    try:
        async with asyncio.timeout(timeout) as cm:
            return await fn(*args, **kwargs)
    except TimeoutError:
        if cm.expired():
            raise TimeoutSignal() from None
        raise


async def _sleep(seconds: float) -> None:
    """``asyncio.sleep`` (asyncio is imported only by code that uses async)."""
    import asyncio

    await asyncio.sleep(seconds)


def _upstream_ids(
    task: Task[Any, Any],
    upstream: list[tuple[TaskRunFuture[Any], bool]] | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for_ids: list[str] | None,
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if upstream:
        for name, value in task.bind(args, kwargs).items():
            found: list[tuple[TaskRunFuture[Any], bool]] = []
            find_futures(value, found)
            if found:
                out[name] = [f.task_run.id for f, _ in found]
    if wait_for_ids:
        out["wait_for"] = wait_for_ids
    return out


_standalone_reporter: Reporter | None = None


def _standalone() -> Reporter:
    """The reporter for task runs outside any flow run (checked on first use)."""
    global _standalone_reporter
    reporter = get_reporter()
    if reporter is not _standalone_reporter:
        reporter.check()
        _standalone_reporter = reporter
    return reporter


# -- entry points used by Task ------------------------------------------------------------
def call_task(
    task: Task[Any, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: Any,
    return_state: bool,
) -> Any:
    """``task(...)``: run now in this thread, return the result (or raise)."""
    if wait_for or has_special(args, kwargs):
        engine = TaskRunEngine(task, args, kwargs, _collect(args, kwargs, wait_for), _ids(wait_for))
    else:
        engine = TaskRunEngine(task, args, kwargs)
    if task.is_async:
        return _await_task(engine, return_state)
    state = engine.run_sync()
    if return_state:
        return state
    return state.result()


async def _await_task(engine: TaskRunEngine, return_state: bool) -> Any:
    state = await engine.run_async()
    if return_state:
        return state
    return state.result()


def _collect(
    args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any
) -> list[tuple[TaskRunFuture[Any], bool]] | None:
    found: list[tuple[TaskRunFuture[Any], bool]] = []
    if has_special(args, kwargs):
        for a in args:
            find_futures(a, found)
        for a in kwargs.values():
            find_futures(a, found)
    if wait_for:
        find_futures(list(wait_for), found)
    for future, allowed in found:
        if allowed:  # passing a failure on deliberately counts as handling it
            future._observed = True
    return found or None


def _ids(wait_for: Any) -> list[str] | None:
    if not wait_for:
        return None
    found: list[tuple[TaskRunFuture[Any], bool]] = []
    find_futures(list(wait_for), found)
    return [f.task_run.id for f, _ in found] or None
