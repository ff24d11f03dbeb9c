"""The worker: claims the due runs of a work pool and runs each in a subprocess.

``cadenza worker start --pool NAME`` builds a :class:`Worker` and calls
:meth:`Worker.start`, which runs until it is stopped:

* It waits for due runs with a waiting claim (a long poll against a server), which
  wakes at the soonest run's time, so a run starts on an idle worker within a
  second of its time; claims are atomic, so two workers never take the same run.
* Each run it claims runs as ``python -m cadenza.deploy.execute RUN_ID`` in a
  subprocess of its own session, in the deployment's folder, with the worker's
  ``CADENZA_*`` settings; its output is printed prefixed with the run's name. The
  subprocess dies with the worker (Linux), so a run never outlives the worker that
  heartbeats for it. One process is started ahead (:mod:`cadenza.deploy.spare`), and
  runs are claimed one per ready process, so a run starts at once and a burst of due
  runs does not start dozens of processes at once.
* Every ``CADENZA_HEARTBEAT_INTERVAL`` seconds it sends a heartbeat for itself and its
  runs; the answer names its runs whose cancellation was requested, which it stops:
  SIGTERM to the run's process group, SIGKILL after a grace period. A subprocess
  that exits without a final state is recorded Cancelled (when it was being
  cancelled) or Crashed.
* On the embedded store (no server), it also runs the scheduler and the crash
  monitor, which are idempotent: several workers on one database run them safely.
* SIGINT or SIGTERM stops it gracefully: no more claims, the runs in progress may
  finish for ``shutdown_timeout`` seconds, then they are stopped and handed back to
  the pool for another worker. A second signal stops them at once.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection
from typing import IO, TYPE_CHECKING, Any

from cadenza.deploy.records import WorkerRecord
from cadenza.deploy.spare import READY, Spare
from cadenza.exceptions import ObjectNotFound, WorkerError
from cadenza.states import Cancelled, Crashed, State, StateType
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.runs import FlowRun
    from cadenza.settings import Settings
    from cadenza.store.deploy_base import DeploymentStore

logger = logging.getLogger("cadenza.worker")

LONG_POLL = 10.0
"""Seconds a waiting claim against a server waits at most."""
CLAIM_BATCH = 10
"""Runs claimed at once at most by a worker without a limit."""
_UNFINISHED = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]


def settings_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a run's subprocess: ``base`` (this process's by default)
    without its ``CADENZA_*`` variables, then every setting of ``settings`` that has a
    value, so that the subprocess uses the worker's store and options."""
    env = dict(os.environ if base is None else base)
    for key in [k for k in env if k.startswith("CADENZA_")]:
        del env[key]
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        env[f"CADENZA_{f.name.upper()}"] = text
    env["PYTHONUNBUFFERED"] = "1"
    return env


class RunProcess:
    """The subprocess running one claimed flow run."""

    def __init__(self, run: FlowRun, proc: subprocess.Popen[bytes]) -> None:
        self.run = run
        self.proc = proc
        self.ready = False
        """Whether it has loaded what a run needs (printed :data:`~cadenza.deploy.spare.READY`)."""
        self.cancelling = False
        """Whether it was told to stop because its run is being cancelled."""
        self.hand_back = False
        """Whether its run goes back to the pool when it ends (the worker is stopping)."""
        self._killer: threading.Timer | None = None

    def stop(self, grace: float) -> None:
        """SIGTERM to the run's process group now, SIGKILL after ``grace`` seconds."""
        _signal_group(self.proc, signal.SIGTERM)
        if self._killer is None:
            self._killer = threading.Timer(grace, _signal_group, (self.proc, signal.SIGKILL))
            self._killer.daemon = True
            self._killer.start()

    def ended(self) -> None:
        if self._killer is not None:
            self._killer.cancel()


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Worker:
    """A worker of the work pool ``pool_name``.

    Args:
        pool_name: the work pool to take runs from.
        queues: only these queues of the pool (all by default).
        limit: runs at once at most (None: no bound but the pool's limits).
        name: shown in listings; ``host:pid`` by default.
        store: where runs are claimed; the store of the settings by default.
        settings: the settings given to the runs' subprocesses; the current ones by
            default.
        run_services: run the scheduler and the crash monitor too; by default when
            the store is a database (no server).
        cancel_grace: seconds between SIGTERM and SIGKILL when stopping a run.
        shutdown_timeout: seconds the runs in progress may take to finish once the
            worker is asked to stop, before they are stopped and handed back.
        output: where the runs' output is printed (standard output by default).

    Raises:
        WorkerError: an invalid option.
    """

    def __init__(
        self,
        pool_name: str,
        *,
        queues: Collection[str] | None = None,
        limit: int | None = None,
        name: str | None = None,
        store: DeploymentStore | None = None,
        settings: Settings | None = None,
        run_services: bool | None = None,
        cancel_grace: float = 10.0,
        shutdown_timeout: float = 30.0,
        output: IO[str] | None = None,
    ) -> None:
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise WorkerError(f"A worker's limit is a whole number of 1 or more, got {limit!r}.")
        if cancel_grace < 0 or shutdown_timeout < 0:
            raise WorkerError("A worker's grace period and shutdown timeout must not be negative.")
        if settings is None:
            from cadenza.settings import get_settings

            settings = get_settings()
        if store is None:
            from cadenza.client import get_deployment_store

            store = get_deployment_store()
        from cadenza.store.monitor_base import MonitorStore

        self.pool_name = pool_name
        self.queues = None if queues is None else list(dict.fromkeys(queues))
        self.limit = limit
        self.store = store
        self.settings = settings
        self.local = isinstance(store, MonitorStore)
        self.run_services = self.local if run_services is None else run_services
        self.cancel_grace = cancel_grace
        self.shutdown_timeout = shutdown_timeout
        self.output = output
        host = socket.gethostname()
        self.record = WorkerRecord(
            id=uuid7(),
            name=name or f"{host}:{os.getpid()}",
            pool_name=pool_name,
            hostname=host,
            pid=os.getpid(),
            started=time.time(),
        )
        self._claim_wait = settings.worker_poll_interval if self.local else LONG_POLL
        self._cpus = max(os.cpu_count() or 1, 1)
        self._env = settings_environment(settings)
        self._processes: dict[str, RunProcess] = {}
        self._spare = Spare(lambda: self._popen("-", None))
        self._lock = threading.Lock()
        self._print_lock = threading.Lock()
        self._stopping = threading.Event()
        self._forced = threading.Event()
        self._changed = threading.Event()
        self._quiet = threading.Event()
        """Set when heartbeats stop (every run has ended)."""
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started_runs = 0
        """How many runs this worker started."""

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def running(self) -> list[str]:
        """The ids of the runs in progress."""
        with self._lock:
            return list(self._processes)

    # -- life -----------------------------------------------------------------------------
    def start(self) -> None:
        """Run until :meth:`stop` is called (or SIGINT/SIGTERM, in the main thread).

        Raises:
            WorkPoolNotFound, WorkQueueNotFound: the pool or a queue does not exist.
        """
        self._heartbeat()  # registers the worker; an unknown pool fails here
        if self.queues is not None:
            known = {q.name for q in self.store.list_work_queues(self.pool_name)}
            unknown = [q for q in self.queues if q not in known]
            if unknown:
                from cadenza.exceptions import WorkQueueNotFound

                raise WorkQueueNotFound(
                    f"Work pool {self.pool_name!r} has no queue {unknown[0]!r}. Its queues: "
                    f"{', '.join(sorted(known))}."
                )
        restore = self._install_signals()
        self._spawn_thread("heartbeat", self._heartbeat_loop)
        if self.run_services:
            self._spawn_thread("services", self._services_loop)
        logger.info(
            "Worker %r started on work pool %r%s%s%s.",
            self.record.name,
            self.pool_name,
            f" (queues {', '.join(self.queues)})" if self.queues else "",
            f", at most {self.limit} run(s) at once" if self.limit else "",
            ", with the scheduler and the crash monitor" if self.run_services else "",
        )
        try:
            self._claim_loop()
        finally:
            try:
                self._shut_down()
            finally:
                restore()

    def stop(self, *, force: bool = False) -> None:
        """Stop claiming; the runs in progress finish (up to the shutdown timeout), or,
        with ``force``, are stopped and handed back at once."""
        self._stopping.set()
        if force:
            self._forced.set()
        self._changed.set()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Wait until :meth:`start` has returned; False on timeout."""
        return self._done.wait(timeout)

    # -- claiming and starting runs ---------------------------------------------------------------
    def _starting(self) -> int:
        """How many processes are still loading what a run needs."""
        self._spare.ready(0.0)
        with self._lock:
            loading = sum(not p.ready for p in self._processes.values())
        return loading + (1 if self._spare.starting else 0)

    def _free(self) -> int:
        if self.limit is None:
            return CLAIM_BATCH
        with self._lock:
            return self.limit - len(self._processes)

    def _claim_loop(self) -> None:
        failures = 0
        poll = self.settings.worker_poll_interval
        while not self._stopping.is_set():
            free = self._free()
            if free <= 0:
                self._changed.wait(poll)
                self._changed.clear()
                continue
            self._spare.ensure()
            # No more runs while as many processes are starting as there are CPUs: a
            # burst of due runs starts as fast as processes can, never dozens at once.
            room = self._cpus - self._starting()
            if room <= 0:
                self._changed.wait(poll)
                self._changed.clear()
                continue
            free = min(free, room)
            try:
                runs = self.store.claim_flow_runs_waiting(
                    self.pool_name, self.id, free, wait=self._claim_wait, queues=self.queues
                )
                failures = 0
            except ObjectNotFound as exc:
                logger.error("Worker %r stops: %s", self.record.name, exc)
                return
            except Exception as exc:
                failures += 1
                pause = min(0.5 * 2**failures, 30.0)
                logger.warning("Could not claim runs (%s); trying again in %.0f s.", exc, pause)
                self._stopping.wait(pause)
                continue
            for run in runs:
                if self._stopping.is_set():
                    self._release(run, "The worker stopped before the run started.")
                else:
                    self._start_run(run)

    def _command(self, run_id: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "cadenza.deploy.execute",
            run_id,
            "--parent-pid",
            str(os.getpid()),
        ]

    def _popen(self, run_id: str, cwd: str | None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self._command(run_id),
            cwd=cwd,
            env=self._env,
            stdin=subprocess.PIPE if run_id == "-" else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start_run(self, run: FlowRun) -> None:
        # The process started ahead moves to the deployment's folder itself.
        taken = self._spare.take(run.id)
        proc, ready = taken if taken is not None else (None, False)
        try:
            if proc is None:
                proc = self._popen(run.id, self._folder(run))
        except OSError as exc:
            message = f"The worker could not start the run's process: {exc.strerror or exc}."
            logger.error("Flow run %r (%s): %s", run.name, run.id, message)
            self._end_unfinished(run.id, Crashed(message=message))
            return
        process = RunProcess(run, proc)
        process.ready = ready
        with self._lock:
            self._processes[run.id] = process
        self.started_runs += 1
        logger.info(
            "Started flow run %r (%s) of %s in process %s.",
            run.name,
            run.id,
            run.flow_name,
            proc.pid,
        )
        self._spawn_thread(f"run-{run.name}", lambda: self._follow(process), keep=False)

    def _folder(self, run: FlowRun) -> str | None:
        """The deployment's folder, when it exists here (the subprocess reports one that
        does not, with the run)."""
        if not run.deployment_id:
            return None
        try:
            deployment = self.store.read_deployment(run.deployment_id)
        except Exception:
            return None
        path = deployment.path if deployment is not None else None
        if path and os.path.isdir(os.path.expanduser(path)):
            return os.path.expanduser(path)
        return None

    def _follow(self, process: RunProcess) -> None:
        """Print the subprocess's output, then record how its run ended."""
        proc, run = process.proc, process.run
        assert proc.stdout is not None
        prefix = f"{run.name} | "
        with proc.stdout:
            for raw in proc.stdout:
                if not process.ready and raw.rstrip() == READY:
                    process.ready = True
                    self._changed.set()
                    continue
                self._print(prefix + raw.decode("utf-8", "replace").rstrip("\n"))
        process.ready = True
        code = proc.wait()
        process.ended()
        try:
            self._finished(process, code)
        except Exception:
            logger.exception("Could not record the end of flow run %s.", run.id)
        finally:
            with self._lock:
                self._processes.pop(run.id, None)
            self._changed.set()

    def _print(self, line: str) -> None:
        stream = self.output if self.output is not None else sys.stdout
        with self._print_lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass

    def _finished(self, process: RunProcess, code: int) -> None:
        run = process.run
        if process.hand_back:
            self._release(run, "Its worker stopped while it ran: back to its pool.")
            return
        found = self.store.read_flow_run(run.id)
        state = found.state if found is not None else None
        if state is not None and state.is_final():
            logger.info("Flow run %r (%s) ended %s.", run.name, run.id, state.name)
            return
        how = f"exited with code {code}" if code >= 0 else f"was killed by signal {-code}"
        if process.cancelling or (state is not None and state.type is StateType.CANCELLING):
            end = Cancelled(message=f"Cancelled: its worker stopped its process, which {how}.")
        else:
            end = Crashed(message=f"Its process {how} before the run ended.")
        self._end_unfinished(run.id, end)
        logger.warning("Flow run %r (%s): %s", run.name, run.id, end.message)

    def _end_unfinished(self, flow_run_id: str, end: State) -> None:
        self.store.add_flow_run_state_if(flow_run_id, end, current=_UNFINISHED)

    def _release(self, run: FlowRun, message: str) -> None:
        try:
            if self.store.release_flow_run(run.id, self.id, message=message):
                logger.info("Flow run %r (%s) handed back to its pool.", run.name, run.id)
        except Exception:
            logger.exception("Could not hand flow run %s back to its pool.", run.id)

    # -- heartbeats and cancellations -------------------------------------------------------------
    def _heartbeat(self) -> None:
        cancelling = self.store.worker_heartbeat(self.record, self.running)
        for run_id in cancelling:
            with self._lock:
                process = self._processes.get(run_id)
            if process is None or process.cancelling:
                continue
            process.cancelling = True
            logger.info(
                "Cancelling flow run %r (%s): stopping its process.", process.run.name, run_id
            )
            process.stop(self.cancel_grace)

    def _heartbeat_loop(self) -> None:
        interval = self.settings.heartbeat_interval
        while not self._quiet.wait(interval):
            try:
                self._heartbeat()
            except Exception as exc:
                logger.warning("Heartbeat failed (%s); trying again in %.0f s.", exc, interval)

    def _services_loop(self) -> None:
        from cadenza.deploy.monitor import Monitor
        from cadenza.deploy.scheduler import Scheduler

        store: Any = self.store
        s = self.settings
        services: list[tuple[str, Callable[[], object], float]] = [
            ("scheduler", Scheduler(store, settings=s).tick, s.scheduler_interval),
            ("monitor", Monitor(store, settings=s).tick, s.monitor_interval),
        ]
        due = [0.0] * len(services)
        while not self._stopping.is_set():
            now = time.monotonic()
            for i, (what, tick, interval) in enumerate(services):
                if now < due[i]:
                    continue
                try:
                    tick()
                except Exception:
                    logger.exception(
                        "The %s of worker %r failed; it runs again.", what, self.record.name
                    )
                due[i] = time.monotonic() + interval
            self._stopping.wait(max(min(due) - time.monotonic(), 0.05))

    # -- stopping -------------------------------------------------------------------------------
    def _shut_down(self) -> None:
        self._stopping.set()
        self._spare.drop()
        deadline = time.monotonic() + self.shutdown_timeout
        if self.running:
            logger.info(
                "Worker %r stops: waiting up to %.0f s for %d run(s) in progress "
                "(signal again to stop them now).",
                self.record.name,
                self.shutdown_timeout,
                len(self.running),
            )
        while self.running and not self._forced.is_set() and time.monotonic() < deadline:
            self._changed.wait(0.2)
            self._changed.clear()
        with self._lock:
            left = list(self._processes.values())
        for process in left:
            process.hand_back = True
            process.stop(0.0 if self._forced.is_set() else self.cancel_grace)
        limit = time.monotonic() + self.cancel_grace + 5.0
        while self.running and time.monotonic() < limit:
            self._changed.wait(0.2)
            self._changed.clear()
        self._quiet.set()
        for thread in self._threads:
            thread.join(timeout=5.0)
        try:
            self.store.delete_worker(self.id)
        except Exception as exc:
            logger.warning("Could not remove worker %r from its pool: %s", self.record.name, exc)
        logger.info(
            "Worker %r stopped after starting %d run(s).", self.record.name, self.started_runs
        )
        self._done.set()

    def _install_signals(self) -> Callable[[], None]:
        """Stop on SIGINT and SIGTERM (a second one forces); returns what restores the
        previous handlers. Only in the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous: dict[int, Any] = {}

        def on_signal(signum: int, frame: Any) -> None:
            if self._stopping.is_set():
                logger.info("Stopping the runs in progress now, and handing them back.")
                self.stop(force=True)
            else:
                logger.info("Worker %r stopping: no new runs.", self.record.name)
                self.stop()

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[signum] = signal.signal(signum, on_signal)
            except (ValueError, OSError):
                pass

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

        return restore

    def _spawn_thread(self, name: str, target: Callable[[], None], *, keep: bool = True) -> None:
        thread = threading.Thread(target=target, name=f"cadenza-worker-{name}", daemon=True)
        thread.start()
        if keep:
            self._threads.append(thread)
