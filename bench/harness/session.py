"""Runs workload processes, each with a home of its own, and keeps what they measured."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from harness.environments import Framework
from harness.plan import Plan
from harness.processes import ProcessRun, run_workload
from harness.recording import count_task_runs, counts_task_runs

_LOG_TAIL_LINES = 15


class Session:
    """The processes of one run of the suite.

    Args:
        plan: sizes, repetitions and time-out.
        frameworks: name -> framework, for the frameworks taking part.
        scratch: a temporary folder for the homes (CADENZA_HOME, PREFECT_HOME).
        logs: the folder for each process's output.
        say: where progress lines go.
    """

    def __init__(
        self,
        plan: Plan,
        frameworks: dict[str, Framework],
        scratch: Path,
        logs: Path,
        say: Callable[[str], None] = print,
    ) -> None:
        self.plan = plan
        self.frameworks = frameworks
        self.scratch = scratch
        self.logs = logs
        self.say = say
        self.runs: list[tuple[str, ProcessRun]] = []
        self.started = time.perf_counter()
        self._numbers = itertools.count(1)
        self._repeated: dict[tuple[str, str, int], list[ProcessRun]] = {}

    @property
    def framework_names(self) -> list[str]:
        """The frameworks of the workloads compared with Prefect."""
        return self.names_for("prefect")

    def names_for(self, competitor: str) -> list[str]:
        """Plain Python, cadenza and ``competitor``, those of them taking part."""
        return [name for name in self.frameworks if name in ("plain", "cadenza", competitor)]

    def new_home(self, framework: str) -> Path:
        return self.scratch / f"{framework}-home-{next(self._numbers)}"

    def server_log(self, case: str, framework: str) -> Path:
        """Where the output of a server started for ``case`` goes."""
        return self.logs / f"{len(self.runs) + 1:03d}-{case}-{framework}-server.log"

    def run(
        self,
        case: str,
        workload: str,
        framework: str,
        n: int,
        home: Path | None = None,
        *,
        env: dict[str, str] | None = None,
        recorded: Callable[[], int | None] | None = None,
    ) -> ProcessRun:
        """One process of ``workload``; in a new home, removed afterwards, unless ``home`` is given.

        ``env`` adds to the process's environment. The task runs it recorded are
        counted in the framework's database in its home, or by ``recorded`` (called
        after the process ended) when the runs go elsewhere (to a server).
        """
        keep_home = home is not None
        home = home if home is not None else self.new_home(framework)
        counting = recorded is None and counts_task_runs(framework)
        before = count_task_runs(framework, home) if counting else None
        log_path = self.logs / f"{len(self.runs) + 1:03d}-{case}-{framework}-{n}.log"
        run = run_workload(
            workload, self.frameworks[framework], n, home, log_path, self.plan.timeout, env
        )
        if recorded is not None and run.ok:
            run.recorded = recorded()
        if counting and run.ok:
            after = count_task_runs(framework, home)
            if before is not None and after is not None:
                run.recorded = after - before
        if not keep_home:
            shutil.rmtree(home, ignore_errors=True)
        self.runs.append((case, run))
        self._report(case, run, log_path)
        return run

    def repeated(self, workload: str, framework: str, n: int, reps: int) -> list[ProcessRun]:
        """``reps`` processes of ``workload`` at size ``n``, reusing those already run."""
        done = self._repeated.setdefault((workload, framework, n), [])
        while len(done) < reps:
            done.append(self.run(workload, workload, framework, n))
        return done[:reps]

    @property
    def failures(self) -> list[tuple[str, ProcessRun]]:
        return [(case, run) for case, run in self.runs if not run.ok]

    def _report(self, case: str, run: ProcessRun, log_path: Path) -> None:
        elapsed = time.perf_counter() - self.started
        line = (
            f"[{elapsed:6.0f} s] {case:<16} {run.framework:<8} N={run.n:<8,} "
            f"{run.wall_seconds:8.2f} s"
        )
        if run.recorded is not None and run.tasks:
            line += f"   task runs recorded {run.recorded:,}/{run.tasks:,}"
        elif run.recorded is not None and "points" in run.figures:
            line += f"   metric points recorded {run.recorded:,}/{run.figures['points']:,}"
        if run.lingering:
            line += "   (stopped processes it left running)"
        if not run.ok:
            reason = "timed out" if run.timed_out else f"exit status {run.returncode}"
            line += f"   FAILED ({reason}), log: bench/out/logs/{log_path.name}"
        self.say(line)
        if not run.ok:
            tail = log_path.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
            self.say("\n".join("    | " + text for text in tail))
