"""Running one workload script in a fresh process and measuring it from outside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.environments import WORKLOADS_DIR, Framework


@dataclass
class ProcessRun:
    """One process of one workload: its figures, as measured from outside and inside."""

    workload: str
    framework: str
    n: int
    wall_seconds: float
    maxrss_kib: int
    returncode: int
    timed_out: bool
    lingering: bool
    log_name: str
    figures: dict[str, Any] = field(default_factory=dict)
    recorded: int | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and "maxrss_self_kib" in self.figures

    @property
    def tasks(self) -> int:
        return int(self.figures.get("tasks", 0))


def run_workload(
    workload: str,
    framework: Framework,
    n: int,
    home: Path,
    log_path: Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> ProcessRun:
    """Run ``workloads/WORKLOAD.py FRAMEWORK N`` with ``home`` as its home and working folder.

    ``env`` adds variables to the framework's environment (a server's URL, settings
    of the workload).

    The wall time runs from just before the process is started until it has been
    reaped; the peak memory is the kernel's ru_maxrss of the process (and of any
    child it waited for). The process gets a session of its own so that anything it
    leaves running can be found and stopped before the next measurement.
    """
    home.mkdir(parents=True, exist_ok=True)
    result_path = home.parent / f"{home.name}.result.json"
    result_path.unlink(missing_ok=True)
    env = {**framework.environment(home), **(env or {})}
    env["BENCH_RESULT_PATH"] = str(result_path)
    command = [str(framework.python), str(WORKLOADS_DIR / f"{workload}.py"), framework.name, str(n)]
    timed_out = threading.Event()
    with log_path.open("w", encoding="utf-8") as log:
        env["BENCH_LAUNCH_NS"] = str(time.time_ns())
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        timer = threading.Timer(timeout, _stop_group, (process.pid, timed_out))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    lingering = _stop_group(process.pid)
    figures = json.loads(result_path.read_text()) if result_path.exists() else {}
    return ProcessRun(
        workload=workload,
        framework=framework.name,
        n=n,
        wall_seconds=wall,
        maxrss_kib=usage.ru_maxrss,
        returncode=process.returncode,
        timed_out=timed_out.is_set(),
        lingering=lingering,
        log_name=log_path.name,
        figures=figures,
    )


def _stop_group(group: int, flag: threading.Event | None = None) -> bool:
    """Kill what is left of the process group ``group``; True if anything was left."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return False
    if flag is not None:
        flag.set()
    return True
