"""The crash monitor: runs whose worker or process died end Crashed, and crashed runs of
deployments with retries left run again.

One pass (:meth:`Monitor.tick`):

* runs claimed by a worker that sent no heartbeat for ``CADENZA_HEARTBEAT_TIMEOUT``
  seconds: Pending and Running ones become Crashed (and, with retries left, at once
  ``AwaitingRetry``, in the same transaction), Cancelling ones Cancelled;
* runs without a worker (a flow called in a script, ``cadenza runs retry``) whose
  process, on this machine, is gone: Crashed (Cancelled if they were Cancelling);
* Crashed runs of deployments whose ``flow_retries`` are not used up (counted in
  crashes) get an ``AwaitingRetry`` state: a worker of their pool runs the same flow
  run again;
* workers silent for a day are forgotten.

Every change is a compare-and-set or one transaction that skips runs changed by
another monitor, so the server's monitor and workers running theirs on the same
database never change a run twice. ``now`` is given to every pass, so tests drive it
with explicit times.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Protocol

from cadenza.states import Cancelled, Crashed, StateType
from cadenza.store.base import FlowRunFilter
from cadenza.store.deploy_base import ACTIVE_RUN_STATES

if TYPE_CHECKING:
    from collections.abc import Collection

    from cadenza.runs import FlowRun
    from cadenza.settings import Settings
    from cadenza.states import State

logger = logging.getLogger("cadenza.deploy.monitor")

RETRY_WINDOW = 86_400.0
"""Crashed runs are retried when they crashed this many seconds ago at most."""
FORGET_WORKERS_AFTER = 86_400.0
"""Workers silent this many seconds are forgotten."""
_SCANNED = 1000
"""Runs without a worker looked at per pass at most."""


class MonitoredStore(Protocol):
    """What the monitor needs of a store: the SQL store is one."""

    def crash_unresponsive_flow_runs(
        self, *, heartbeat_before: float, now: float | None = None, limit: int = 1000
    ) -> list[FlowRun]: ...

    def reschedule_crashed_flow_runs(
        self, *, crashed_since: float, now: float | None = None, limit: int = 100
    ) -> list[FlowRun]: ...

    def delete_stale_workers(self, *, heartbeat_before: float) -> int: ...

    def list_flow_runs(
        self, filter: FlowRunFilter | None = None, *, limit: int = 100
    ) -> list[FlowRun]: ...

    def read_flow_run(self, flow_run_id: str) -> FlowRun | None: ...

    def add_flow_run_state_if(
        self, flow_run_id: str, state: State, *, current: Collection[StateType]
    ) -> bool: ...


@dataclasses.dataclass
class MonitorReport:
    """What one pass of the monitor did."""

    unresponsive: int = 0
    """Runs of silent workers crashed (those retried included) or cancelled."""
    orphaned: int = 0
    """Runs without a worker whose process was gone."""
    retried: int = 0
    """Crashed runs that run again (those of silent workers included)."""
    forgotten_workers: int = 0


class Monitor:
    """Finds runs whose worker or process died, and retries crashed runs.

    Args:
        store: the database-backed store (the monitor never runs over HTTP).
        heartbeat_timeout: seconds without a heartbeat after which a worker's runs are
            dealt with; from the settings when None.
    """

    def __init__(
        self,
        store: MonitoredStore,
        *,
        heartbeat_timeout: float | None = None,
        settings: Settings | None = None,
    ) -> None:
        if settings is None:
            from cadenza.settings import get_settings

            settings = get_settings()
        self.store = store
        self.heartbeat_timeout = (
            settings.heartbeat_timeout if heartbeat_timeout is None else heartbeat_timeout
        )

    def tick(self, now: float | None = None) -> MonitorReport:
        """One pass; returns what it did."""
        when = time.time() if now is None else now
        store = self.store
        report = MonitorReport()
        silent = store.crash_unresponsive_flow_runs(
            heartbeat_before=when - self.heartbeat_timeout, now=when
        )
        report.unresponsive = len(silent)
        for run in silent:
            if run.state is not None and run.state.type is StateType.SCHEDULED:
                report.retried += 1  # Crashed and AwaitingRetry at once
                logger.warning(
                    "Flow run %r (%s) crashed: its worker stopped sending heartbeats; it "
                    "runs again.",
                    run.name,
                    run.id,
                )
                continue
            logger.warning(
                "Flow run %r (%s) is %s: its worker stopped sending heartbeats.",
                run.name,
                run.id,
                run.state.name if run.state is not None else "changed",
            )
        report.orphaned = self.end_orphaned_runs(when)
        retried = store.reschedule_crashed_flow_runs(crashed_since=when - RETRY_WINDOW, now=when)
        report.retried += len(retried)
        for run in retried:
            logger.info("Flow run %r (%s) crashed; it runs again.", run.name, run.id)
        report.forgotten_workers = store.delete_stale_workers(
            heartbeat_before=when - FORGET_WORKERS_AFTER
        )
        return report

    def end_orphaned_runs(self, now: float) -> int:
        """End the unfinished runs without a worker whose process on this machine is
        gone; returns how many were ended."""
        from cadenza.utilities.processes import process_gone

        active = FlowRunFilter(state_types=sorted(ACTIVE_RUN_STATES))
        ended = 0
        for listed in self.store.list_flow_runs(active, limit=_SCANNED):
            if listed.worker_id is not None or not process_gone(listed):
                continue
            run = self.store.read_flow_run(listed.id)  # with its history, for the check
            if run is None or run.state is None or not process_gone(run):
                continue
            why = f"Its process (pid {run.pid} on {run.hostname}) ended without a final state."
            if run.state.type is StateType.CANCELLING:
                end = Cancelled(message=f"Cancelled. {why}", timestamp=now)
                current = [StateType.CANCELLING]
            else:
                end = Crashed(message=why, timestamp=now)
                current = [StateType.PENDING, StateType.RUNNING]
            if self.store.add_flow_run_state_if(run.id, end, current=current):
                ended += 1
                logger.warning("Flow run %r (%s): %s", run.name, run.id, why)
        return ended
