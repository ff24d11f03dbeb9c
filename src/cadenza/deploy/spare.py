"""The process a worker starts ahead of its next run.

Starting Python and importing cadenza, SQLAlchemy or httpx takes 0.3 to 0.7 s of a
busy machine; a worker keeps one process that has done so (``python -m
cadenza.deploy.execute - --parent-pid PID``), which waits for its run's id on its
input. A run given to it is Running tens of milliseconds after its time.

Every run's process prints :data:`READY` once it has loaded what a run needs (before
it reads its run, for a process started ahead): the worker counts the processes still
starting and claims no more runs while as many are starting as the machine has CPUs,
so a burst of due runs does not start dozens of processes at once, which would starve
the machine (and a server on it).
"""

from __future__ import annotations

import logging
import select
import signal
import subprocess
from collections.abc import Callable

logger = logging.getLogger("cadenza.worker")

READY = b"cadenza: ready for a run"
"""What a run's process prints once it has loaded what a run needs."""
_MAX_FAILURES = 3
"""Processes started ahead that may die before they are ready; then runs start cold."""


class Spare:
    """One process started ahead, made by ``start`` (called from the thread that will
    give it its run: its end would kill the process, see
    :func:`cadenza.deploy.execute.exit_with_parent`)."""

    def __init__(self, start: Callable[[], subprocess.Popen[bytes]]) -> None:
        self._start = start
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._failures = 0

    @property
    def starting(self) -> bool:
        """Whether a process started ahead is still loading."""
        return self._proc is not None and not self._ready

    @property
    def usable(self) -> bool:
        """False once processes started ahead kept dying: runs then start cold."""
        return self._failures < _MAX_FAILURES

    def ensure(self) -> None:
        """Start a process ahead when there is none."""
        if self._proc is not None or not self.usable:
            return
        try:
            self._proc = self._start()
        except OSError as exc:
            self._failures = _MAX_FAILURES
            logger.warning("Could not start a process ahead of the next run: %s", exc)
        self._ready = False

    def ready(self, wait: float) -> bool:
        """Whether the process started ahead is ready, waiting up to ``wait`` seconds."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            return False
        if self._ready:
            return True
        while True:
            readable, _, _ = select.select([proc.stdout], [], [], wait)
            if not readable:
                return False
            line = proc.stdout.readline()
            if not line:  # it ended before it was ready
                self._failures += 1
                logger.warning(
                    "A process started ahead of the next run ended with code %s.", proc.wait()
                )
                self._discard()
                return False
            if line.rstrip() == READY:
                self._ready = True
                return True
            logger.debug("Process started ahead: %s", line.decode("utf-8", "replace").rstrip())
            wait = 0.0

    def take(self, run_id: str) -> tuple[subprocess.Popen[bytes], bool] | None:
        """The process started ahead, given the run ``run_id``, and whether it is ready
        (if not, it starts the run once it is: still sooner than a new process); None
        when there is none (or it is gone)."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            return None
        ready = self.ready(0.0)
        if self._proc is None:  # it ended
            return None
        self._proc = None
        try:
            proc.stdin.write(run_id.encode() + b"\n")
            proc.stdin.close()
        except OSError:
            _kill(proc)
            return None
        return proc, ready

    def drop(self) -> None:
        """End the process started ahead (it exits on an empty input)."""
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            _kill(proc)
        if proc.stdout is not None:
            proc.stdout.close()

    def _discard(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            import os

            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass
