"""The processes behind the run actions: signalling a run's process, starting a retry.

The server signals a run's process only when it runs on the server's own machine,
is still alive, and is the same process (see :mod:`cadenza.utilities.processes`).

Runs are recorded by the clients that report to the server: what they record (a
process id, an entrypoint to import) is trusted as far as the clients are, which is
what the API key is for.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from cadenza.runs import FlowRun
from cadenza.utilities import processes

logger = logging.getLogger("cadenza.server.api")


def terminate(run: FlowRun) -> tuple[bool, str]:
    """Send SIGTERM to the process of ``run`` if the server may; returns whether it was
    sent and, if not, why (see :func:`cadenza.utilities.processes.terminate`)."""
    return processes.terminate(run, own="the server's own process")


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
