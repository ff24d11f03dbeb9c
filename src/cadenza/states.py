"""Run states: what a flow run or task run is doing, and the history of it.

A state has a *type* (the machine-readable phase, :class:`StateType`) and a *name*
(what users see; several names share a type, e.g. ``Cached`` and ``Completed`` are
both of type ``COMPLETED``; ``TimedOut`` is a ``FAILED``; ``Retrying`` is a
``RUNNING``).
"""

from __future__ import annotations

import time
import traceback as _tb
from enum import StrEnum
from typing import Any

from cadenza.exceptions import CancelledRun, CrashedRun, FailedRun, UnfinishedRun


class StateType(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"


TERMINAL_STATES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)
_FAILURE_STATES = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})

_UNSET: Any = object()


class State:
    """One entry of a run's state history.

    Attributes:
        type: the phase of the run.
        name: the name shown to users (``Completed``, ``Cached``, ``Retrying``...).
        timestamp: seconds since the epoch when the run entered this state.
        message: a human-readable explanation, or None.
        error_type: qualified name of the exception class for failures, or None.
        traceback: the formatted traceback for failures, or None.
        data: small JSON-serializable details (e.g. ``scheduled_time``,
            ``cached_from``), or None.
    """

    __slots__ = (
        "_exception",
        "_result",
        "data",
        "error_type",
        "message",
        "name",
        "timestamp",
        "traceback",
        "type",
    )

    def __init__(
        self,
        type: StateType,
        name: str | None = None,
        *,
        message: str | None = None,
        timestamp: float | None = None,
        result: Any = _UNSET,
        exception: BaseException | None = None,
        error_type: str | None = None,
        traceback: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.type = type
        self.name = name if name is not None else type.value.capitalize()
        self.timestamp = time.time() if timestamp is None else timestamp
        self.message = message
        self._result = result
        self._exception = exception
        if exception is not None and error_type is None:
            exc_cls = exception.__class__
            error_type = (
                exc_cls.__qualname__
                if exc_cls.__module__ == "builtins"
                else f"{exc_cls.__module__}.{exc_cls.__qualname__}"
            )
            if message is None:
                self.message = f"{exc_cls.__name__}: {exception}"
            if traceback is None:
                traceback = "".join(_tb.format_exception(exception))
        self.error_type = error_type
        self.traceback = traceback
        self.data = data

    # -- predicates (Prefect-compatible names) -------------------------------------
    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        return self.type in TERMINAL_STATES

    @property
    def exception(self) -> BaseException | None:
        """The exception that ended the run, when it happened in this process."""
        return self._exception

    def result(self, raise_on_failure: bool = True) -> Any:
        """Return the run's result, or raise its exception.

        Args:
            raise_on_failure: if False, return the exception of a failed run
                instead of raising it.

        Raises:
            UnfinishedRun: the state is not final.
            The run's own exception for a failed run, or :class:`FailedRun`,
            :class:`CrashedRun` or :class:`CancelledRun` when that exception is
            not available (states read back from the store).
        """
        if self.type is StateType.COMPLETED:
            if self._result is _UNSET:
                return None
            return self._result
        if self.type in _FAILURE_STATES:
            exc = self._exception
            if exc is None:
                cls = {
                    StateType.FAILED: FailedRun,
                    StateType.CRASHED: CrashedRun,
                    StateType.CANCELLED: CancelledRun,
                }[self.type]
                exc = cls(self.message or f"Run is in state {self.name}")
            if raise_on_failure:
                raise exc
            return exc
        raise UnfinishedRun(
            f"The run is in state {self.name!r} and has no result yet; "
            "wait for it to finish first (future.wait() or future.result())."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form, as stored in a run's state history."""
        d: dict[str, Any] = {
            "type": self.type.value,
            "name": self.name,
            "timestamp": self.timestamp,
        }
        if self.message is not None:
            d["message"] = self.message
        if self.error_type is not None:
            d["error_type"] = self.error_type
        if self.traceback is not None:
            d["traceback"] = self.traceback
        if self.data:
            d["data"] = self.data
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        return cls(
            StateType(d["type"]),
            d.get("name"),
            message=d.get("message"),
            timestamp=d.get("timestamp"),
            error_type=d.get("error_type"),
            traceback=d.get("traceback"),
            data=d.get("data"),
        )

    def __repr__(self) -> str:
        if self.message:
            return f"{self.name}(message={self.message!r})"
        return f"{self.name}()"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, State):
            return NotImplemented
        return (self.type, self.name, self.timestamp) == (other.type, other.name, other.timestamp)

    __hash__ = None  # type: ignore[assignment]


_new = object.__new__


def quick_state(type: StateType, name: str, timestamp: float, result: Any = _UNSET) -> State:
    """A state without message or error, built without argument parsing (hot path)."""
    s = _new(State)
    s.type = type
    s.name = name
    s.timestamp = timestamp
    s.message = None
    s._result = result
    s._exception = None
    s.error_type = None
    s.traceback = None
    s.data = None
    return s


# -- constructors ----------------------------------------------------------------------
def Scheduled(scheduled_time: float | None = None, name: str = "Scheduled", **kw: Any) -> State:
    data = kw.pop("data", None) or {}
    if scheduled_time is not None:
        data["scheduled_time"] = scheduled_time
    return State(StateType.SCHEDULED, name, data=data or None, **kw)


def Late(scheduled_time: float | None = None, **kw: Any) -> State:
    return Scheduled(scheduled_time, name="Late", **kw)


def AwaitingRetry(scheduled_time: float | None = None, **kw: Any) -> State:
    return Scheduled(scheduled_time, name="AwaitingRetry", **kw)


def Pending(name: str = "Pending", **kw: Any) -> State:
    return State(StateType.PENDING, name, **kw)


def Running(name: str = "Running", **kw: Any) -> State:
    return State(StateType.RUNNING, name, **kw)


def Retrying(**kw: Any) -> State:
    return State(StateType.RUNNING, "Retrying", **kw)


def Completed(name: str = "Completed", **kw: Any) -> State:
    return State(StateType.COMPLETED, name, **kw)


def Cached(**kw: Any) -> State:
    return State(StateType.COMPLETED, "Cached", **kw)


def Failed(name: str = "Failed", **kw: Any) -> State:
    return State(StateType.FAILED, name, **kw)


def TimedOut(**kw: Any) -> State:
    return State(StateType.FAILED, "TimedOut", **kw)


def Crashed(**kw: Any) -> State:
    return State(StateType.CRASHED, "Crashed", **kw)


def Cancelled(**kw: Any) -> State:
    return State(StateType.CANCELLED, "Cancelled", **kw)


def Cancelling(**kw: Any) -> State:
    return State(StateType.CANCELLING, "Cancelling", **kw)


def Paused(**kw: Any) -> State:
    return State(StateType.PAUSED, "Paused", **kw)
