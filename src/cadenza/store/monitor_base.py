"""The monitor store interface: what the crash monitor does to runs whose worker is gone.

Only the database-backed store implements it (:mod:`cadenza.store.monitor_sql`): the
monitor runs where the database is, in the server or in a worker on the embedded
store, never over HTTP. Times are seconds since the epoch; ``now`` None means the
current time.
"""

from __future__ import annotations

import abc

from cadenza.runs import FlowRun


class MonitorStore(abc.ABC):
    """Crashing the runs of silent workers, retrying crashed runs, forgetting workers."""

    @abc.abstractmethod
    def crash_unresponsive_flow_runs(
        self, *, heartbeat_before: float, now: float | None = None, limit: int = 1000
    ) -> list[FlowRun]:
        """End the runs claimed by a worker whose heartbeat is older than
        ``heartbeat_before``, at most ``limit`` of them, oldest heartbeat first, in one
        transaction: Pending and Running ones become Crashed (a Pending run may have
        started: its process may have died before its Running state was recorded),
        Cancelling ones Cancelled (someone wanted them stopped, and they are). A run
        crashed whose deployment has retries left (as
        :meth:`reschedule_crashed_flow_runs` counts them) also gets its
        ``AwaitingRetry`` state and loses its worker in the same transaction: no reader
        ever sees it Crashed, a final state, while it is going to run again.

        Returns the runs changed, with their new state (``AwaitingRetry`` for those
        that run again); an empty list when none.
        """

    @abc.abstractmethod
    def reschedule_crashed_flow_runs(
        self, *, crashed_since: float, now: float | None = None, limit: int = 100
    ) -> list[FlowRun]:
        """Run again the crashed runs of deployments that have retries left.

        A run qualifies when it is Crashed since ``crashed_since`` or later, belongs
        to a deployment, and has crashed at most ``flow_retries`` times (the
        deployment's). In one transaction each gets an ``AwaitingRetry`` state (a
        Scheduled type, due at once: it keeps its scheduled time) and loses its worker,
        so that a worker of its pool claims it again: the same flow run, whose
        ``run_count`` grows. Returns the runs rescheduled; an empty list when none.
        """

    @abc.abstractmethod
    def delete_stale_workers(self, *, heartbeat_before: float) -> int:
        """Forget the workers whose last heartbeat is older than ``heartbeat_before``;
        returns how many were deleted."""
