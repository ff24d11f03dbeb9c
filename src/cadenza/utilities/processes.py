"""The process that runs a flow run: finding it, telling whether it is alive, signalling it.

A flow run records the host name and process id of the process running it. That
process may be signalled only when it runs on this machine, is still alive, and is
the same process: a process id is reused once its process has ended, so on Linux the
process's start time must not be later than the start of the run's latest attempt
(or its creation, before it started). The operating system lets a process signal
only its own user's processes.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from pathlib import Path

from cadenza.runs import FlowRun
from cadenza.states import StateType

logger = logging.getLogger("cadenza.processes")

_SLACK = 2.0
"""Seconds of tolerance between the clock of process start times and run times."""


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def process_start_time(pid: int) -> float | None:
    """When the process ``pid`` started (seconds since the epoch), where the system
    tells it (Linux); None elsewhere or when it cannot be read."""
    boot = _boot_time()
    if boot is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # Fields after the command name (which may hold spaces), from field 3 on.
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def local_process(run: FlowRun, *, own: str = "this process") -> tuple[int | None, str]:
    """The process id to signal to stop ``run``, or None and the reason why there is none.

    ``own`` names the calling process in the reason given when the run runs inside it.
    """
    pid, host = run.pid, run.hostname
    if not pid or not host:
        return None, "the run did not record its process"
    if host != socket.gethostname():
        return None, f"its process runs on {host}, not on this machine"
    if pid == os.getpid():
        return None, f"it runs inside {own}"
    if run.created > time.time() + _SLACK:
        return None, "the run says it was created in the future"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None, f"its process (pid {pid}) has ended"
    except PermissionError:
        return None, f"there is no permission to signal its process (pid {pid})"
    started = process_start_time(pid)
    if started is not None and started > _recorded_alive(run) + _SLACK:
        return None, f"its process (pid {pid}) has ended; that pid now belongs to another"
    return pid, ""


def _recorded_alive(run: FlowRun) -> float:
    """A time at which the run's recorded process was alive: the start of its latest
    attempt (a resumed run, or a scheduled run started by a worker, is run by a process
    started after the run was created), or its creation."""
    running = [s.timestamp for s in run.history or () if s.type is StateType.RUNNING]
    return max([run.created, *running])


def terminate(run: FlowRun, *, own: str = "this process") -> tuple[bool, str]:
    """Send SIGTERM to the process of ``run`` if it may be; returns whether it was sent
    and, if not, why (``own`` as in :func:`local_process`)."""
    pid, why = local_process(run, own=own)
    if pid is None:
        return False, why
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as exc:
        return False, f"SIGTERM could not be sent to pid {pid}: {exc.strerror or exc}"
    logger.info("Sent SIGTERM to pid %s to cancel flow run %s.", pid, run.id)
    return True, ""


def process_gone(run: FlowRun) -> bool:
    """Whether the process recorded on ``run`` is known to have ended: it ran on this
    machine, and no process has its id any more, or the one that has it started after
    the run's latest attempt (its id was reused). False when it cannot be known (another
    machine, no process recorded). ``run`` needs its history."""
    pid, host = run.pid, run.hostname
    if not pid or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, and another user's: gone only if its id was reused
    started = process_start_time(pid)
    return started is not None and started > _recorded_alive(run) + _SLACK
