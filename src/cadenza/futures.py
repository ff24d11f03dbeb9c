"""Futures of submitted task runs, and the annotations ``unmapped``/``allow_failure``."""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cadenza.states import State

if TYPE_CHECKING:
    from cadenza.runs import TaskRun

R = TypeVar("R")
T = TypeVar("T")


class TaskRunFuture(Generic[R]):
    """The future result of a task run started with ``task.submit()`` or ``task.map()``.

    ``result()`` waits and returns the value (or raises the task's exception);
    ``wait()`` only waits; ``state`` is the run's current state.
    """

    __slots__ = ("_cf", "_observed", "task_run")

    def __init__(self, task_run: TaskRun, future: cf.Future[State]) -> None:
        self.task_run = task_run
        self._cf = future
        self._observed = False

    @property
    def task_run_id(self) -> str:
        return self.task_run.id

    @property
    def state(self) -> State:
        """The run's state: final once the future is done."""
        self._observed = True
        if self._cf.done():
            return self._cf.result()
        state = self.task_run.state
        assert state is not None
        return state

    def done(self) -> bool:
        return self._cf.done()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the run is final, or ``timeout`` seconds have passed."""
        try:
            _wait(self._cf, timeout)
        except cf.TimeoutError:
            pass

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """Wait for the run and return its result.

        Raises:
            TimeoutError: the run did not finish within ``timeout`` seconds.
            The task's own exception when the run failed (unless
            ``raise_on_failure=False``, which returns it instead).
        """
        self._observed = True
        try:
            state = _wait(self._cf, timeout)
        except cf.TimeoutError:
            raise TimeoutError(
                f"Task run {self.task_run.name!r} did not finish within {timeout} s."
            ) from None
        return state.result(raise_on_failure=raise_on_failure)

    def final_state(self) -> State:
        """Wait and return the final state without counting as handling a failure."""
        return _wait(self._cf)

    def add_done_callback(self, fn: Any) -> None:
        """Call ``fn(self)`` when the run is final (at once if it is already)."""
        self._cf.add_done_callback(lambda _: fn(self))

    def __repr__(self) -> str:
        state = self._cf.result() if self._cf.done() else self.task_run.state
        return f"TaskRunFuture({self.task_run.name!r}, state={state!r})"


def _wait(future: cf.Future[State], timeout: float | None = None) -> State:
    """``future.result(timeout)`` in short slices, so that Ctrl-C interrupts the wait
    (a plain wait on a ``concurrent.futures`` future does not wake up for signals)."""
    if future.done():
        return future.result()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = 0.25 if deadline is None else min(0.25, max(deadline - time.monotonic(), 0))
        try:
            return future.result(step)
        except cf.TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                raise


PrefectFuture = TaskRunFuture
"""The name Prefect users know."""


class FutureList(list[TaskRunFuture[R]]):
    """The futures returned by ``task.map()``: a list with ``wait()`` and ``result()``."""

    def wait(self, timeout: float | None = None) -> None:
        wait(self, timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[R]:
        return [f.result(timeout, raise_on_failure) for f in self]


PrefectFutureList = FutureList


class DoneAndNotDone:
    """What :func:`wait` returns: ``done`` and ``not_done`` sets of futures."""

    def __init__(self, done: set[TaskRunFuture[Any]], not_done: set[TaskRunFuture[Any]]):
        self.done = done
        self.not_done = not_done

    def __iter__(self) -> Iterator[set[TaskRunFuture[Any]]]:
        return iter((self.done, self.not_done))


def wait(futures: Iterable[TaskRunFuture[Any]], timeout: float | None = None) -> DoneAndNotDone:
    """Wait for all ``futures`` to finish, or ``timeout`` seconds."""
    futures = list(futures)
    by_cf = {f._cf: f for f in futures}
    done, not_done = cf.wait(list(by_cf), timeout=timeout)
    return DoneAndNotDone({by_cf[c] for c in done}, {by_cf[c] for c in not_done})


def as_completed(
    futures: Iterable[TaskRunFuture[T]], timeout: float | None = None
) -> Iterator[TaskRunFuture[T]]:
    """Yield ``futures`` as they finish."""
    by_cf = {f._cf: f for f in futures}
    for c in cf.as_completed(list(by_cf), timeout=timeout):
        yield by_cf[c]


class unmapped(Generic[T]):
    """Pass a value to every call of ``task.map()`` instead of iterating over it."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"unmapped({self.value!r})"


class allow_failure(Generic[T]):
    """Run a downstream task even if this upstream future failed.

    The downstream task receives the upstream exception as the value.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"allow_failure({self.value!r})"
