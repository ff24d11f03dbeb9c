"""Stopping a function that runs too long.

Two strategies, chosen per call:

- on the main thread, ``SIGALRM`` (``setitimer``) interrupts the function even while
  it sleeps or waits on I/O;
- on other threads (or when an alarm is in use already), a timer thread raises the
  exception in the target thread with ``PyThreadState_SetAsyncExc``. The exception
  arrives at the next Python bytecode the thread runs: a thread blocked inside a
  long C call is stopped when that call returns.

Both raise :class:`~cadenza.exceptions.TimeoutSignal`, a ``BaseException`` that user
code's ``except Exception`` does not swallow; the engine turns it into a
``TimedOut`` state and a :class:`TimeoutError`.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from types import TracebackType

from cadenza.exceptions import TimeoutSignal

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


class Timeout:
    """Context manager raising :class:`TimeoutSignal` in the block after ``seconds``.

    ``timed_out`` tells afterwards whether the deadline passed.
    """

    __slots__ = ("_lock", "_old_handler", "_strategy", "_thread_id", "_timer", "armed", "seconds", "timed_out")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.timed_out = False
        self.armed = False
        self._strategy = ""
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._thread_id = 0
        self._old_handler: object = None

    def __enter__(self) -> Timeout:
        if (
            threading.current_thread() is threading.main_thread()
            and hasattr(signal, "setitimer")
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        ):
            self._strategy = "signal"
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        else:
            self._strategy = "thread"
            self._thread_id = threading.get_ident()
            self.armed = True
            self._timer = threading.Timer(self.seconds, self._on_timer)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _on_alarm(self, signum: int, frame: object) -> None:
        if self.armed:
            self.armed = False
            self.timed_out = True
            raise TimeoutSignal(f"timed out after {self.seconds} s")

    def _on_timer(self) -> None:
        with self._lock:
            if self.armed:
                self.armed = False
                self.timed_out = True
                _set_async_exc(self._thread_id, TimeoutSignal)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._strategy == "signal":
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)  # type: ignore[arg-type]
            return
        with self._lock:
            fired = self.timed_out
            self.armed = False
            if self._timer is not None:
                self._timer.cancel()
            if fired and exc_type is None:
                # The exception was scheduled but not raised yet: the function returned
                # just in time. Clear it so it cannot surface later in the engine.
                _set_async_exc(self._thread_id, None)  # type: ignore[arg-type]
                self.timed_out = False
