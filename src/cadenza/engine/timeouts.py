"""Stopping a function that runs too long.

Two strategies, chosen per call:

- on the main thread, ``SIGALRM`` (``setitimer``) interrupts the function even while
  it sleeps or waits on I/O. An alarm set already (an outer timeout, a test
  runner's) is kept: the earlier deadline fires first and the other is re-armed;
- on other threads, a timer thread raises the
  exception in the target thread with ``PyThreadState_SetAsyncExc``. The exception
  arrives at the next Python bytecode the thread runs: a thread blocked inside a
  long C call is stopped when that call returns.

Both raise :class:`~cadenza.exceptions.TimeoutSignal`, a ``BaseException`` that user
code's ``except Exception`` does not swallow; the engine turns it into a
``TimedOut`` state and a :class:`TimeoutError`.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from types import TracebackType
from typing import Any

from cadenza.exceptions import TimeoutSignal


@functools.cache
def _async_exc() -> Any:
    """``PyThreadState_SetAsyncExc``, through ctypes, which is loaded (about 2 ms) the
    first time a timeout runs off the main thread rather than with every flow run."""
    import ctypes

    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
    return set_async_exc


class Timeout:
    """Context manager raising :class:`TimeoutSignal` in the block after ``seconds``.

    ``timed_out`` tells afterwards whether the deadline passed.
    """

    __slots__ = (
        "_deadline",
        "_lock",
        "_old_handler",
        "_old_timer",
        "_started",
        "_strategy",
        "_thread_id",
        "_timer",
        "armed",
        "seconds",
        "timed_out",
    )

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.timed_out = False
        self.armed = False
        self._strategy = ""
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._thread_id = 0
        self._old_handler: Any = None
        self._old_timer: tuple[float, float] = (0.0, 0.0)
        self._started = 0.0
        self._deadline = 0.0

    def __enter__(self) -> Timeout:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            self._strategy = "signal"
            self._started = time.monotonic()
            self._deadline = self._started + self.seconds
            self._old_timer = signal.getitimer(signal.ITIMER_REAL)
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            self.armed = True
            outer = self._old_timer[0]
            signal.setitimer(
                signal.ITIMER_REAL, min(self.seconds, outer) if outer else self.seconds
            )
        else:
            self._strategy = "thread"
            _async_exc()  # loaded here, not in the timer thread when it fires
            self._thread_id = threading.get_ident()
            self.armed = True
            self._timer = threading.Timer(self.seconds, self._on_timer)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _on_alarm(self, signum: int, frame: Any) -> None:
        if self.armed and time.monotonic() >= self._deadline - 0.001:
            self.armed = False
            self.timed_out = True
            raise TimeoutSignal(f"timed out after {self.seconds} s")
        # The outer alarm's deadline came first: hand it the signal, then re-arm ours.
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, max(self._deadline - time.monotonic(), 0.001))
        old = self._old_handler
        if callable(old):
            old(signum, frame)

    def _on_timer(self) -> None:
        with self._lock:
            if self.armed:
                self.armed = False
                self.timed_out = True
                _async_exc()(self._thread_id, TimeoutSignal)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._strategy == "signal":
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)
            outer, interval = self._old_timer
            if outer:
                left = outer - (time.monotonic() - self._started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.000001), interval)
            return
        with self._lock:
            fired = self.timed_out
            self.armed = False
            if self._timer is not None:
                self._timer.cancel()
            if fired and exc_type is None:
                # The exception was scheduled but not raised yet: the function returned
                # just in time. Clear it so it cannot surface later in the engine.
                _async_exc()(self._thread_id, None)
                self.timed_out = False
