"""The processes behind the run actions: signalling a run's process, starting a retry.

A flow run records the host name and process id of the process running it. The
server may signal that process only when it runs on the server's own machine, is
still alive, and is the same process: a process id is reused once its process has
ended, so on Linux the process's start time must not be later than the start of the
run's latest attempt (or its creation, before it started). The operating system lets
the server signal only its own user's processes.

Runs are recorded by the clients that report to the server: what they record (a
process id, an entrypoint to import) is trusted as far as the clients are, which is
what the API key is for.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from cadenza.runs import FlowRun
from cadenza.states import StateType

logger = logging.getLogger("cadenza.server.api")

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


def local_process(run: FlowRun) -> tuple[int | None, str]:
    """The process id to signal to stop ``run``, or None and the reason why there is none."""
    pid, host = run.pid, run.hostname
    if not pid or not host:
        return None, "the run did not record its process"
    if host != socket.gethostname():
        return None, f"its process runs on {host}, not on this server's machine"
    if pid == os.getpid():
        return None, "it runs inside the server's own process"
    if run.created > time.time() + _SLACK:
        return None, "the run says it was created in the future"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None, f"its process (pid {pid}) has ended"
    except PermissionError:
        return None, f"the server may not signal its process (pid {pid})"
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


def terminate(run: FlowRun) -> tuple[bool, str]:
    """Send SIGTERM to the process of ``run`` if it may be; returns whether it was sent
    and, if not, why."""
    pid, why = local_process(run)
    if pid is None:
        return False, why
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError as exc:
        return False, f"SIGTERM could not be sent to pid {pid}: {exc.strerror or exc}"
    logger.info("Sent SIGTERM to pid %s to cancel flow run %s.", pid, run.id)
    return True, ""


# -- retries --------------------------------------------------------------------------------
_lock = threading.Lock()
_retries: dict[str, subprocess.Popen[bytes]] = {}


def retry_in_progress(flow_run_id: str) -> int | None:
    """The pid of a retry of this run started by this server and still running."""
    with _lock:
        proc = _retries.get(flow_run_id)
        if proc is None or proc.poll() is not None:
            _retries.pop(flow_run_id, None)
            return None
        return proc.pid


def start_retry(flow_run_id: str, *, database_url: str | None, output_dir: Path) -> int:
    """Start ``cadenza runs retry <id>`` in a process of its own; returns its pid.

    The process gets the server's environment, with ``CADENZA_DATABASE_URL`` set to
    the server's database, and its own session, so that it outlives the server. Its
    output goes to ``output_dir/retry-<id>.log``.

    Raises:
        OSError: the process could not be started.
    """
    env = dict(os.environ)
    if database_url:
        env["CADENZA_DATABASE_URL"] = database_url
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"retry-{flow_run_id}.log"
    with output.open("ab") as out:
        out.write(f"--- cadenza runs retry {flow_run_id} at {time.ctime()}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cadenza.cli.main", "runs", "retry", flow_run_id],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with _lock:
        _retries[flow_run_id] = proc
    # Reap the process when it ends, so that it leaves no zombie behind.
    threading.Thread(target=proc.wait, name=f"cadenza-retry-{proc.pid}", daemon=True).start()
    logger.info("Retrying flow run %s in process %s (output: %s).", flow_run_id, proc.pid, output)
    return proc.pid
