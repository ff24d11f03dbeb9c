"""The worker store interface: workers' heartbeats, waiting for runs, handing runs back.

Part of :class:`~cadenza.store.deploy_base.DeploymentStore`, so that a worker talks to
the embedded database and to a server through the same methods: the SQL store
implements them in :mod:`cadenza.store.worker_sql`, the server-backed store over the
REST API. The contract tests in ``tests/store`` run against both.

Times are seconds since the epoch; ``now`` arguments let callers (and tests) decide
what time it is, None meaning the current time.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from typing import TYPE_CHECKING

from cadenza.runs import FlowRun

if TYPE_CHECKING:
    from cadenza.deploy.records import WorkerRecord

MAX_CLAIM_WAIT = 30.0
"""The longest wait a server grants a waiting claim, in seconds (a client asking for
more waits this long)."""


class WorkerStore(abc.ABC):
    """What a worker needs beyond claiming: heartbeats, waiting for due runs,
    handing runs back."""

    @abc.abstractmethod
    def worker_heartbeat(
        self, worker: WorkerRecord, flow_run_ids: Collection[str], *, now: float | None = None
    ) -> list[str]:
        """Record that a worker, and the runs it is running, are alive.

        The first heartbeat of a worker id creates its record (started at ``now``
        unless ``worker.started`` is given); later ones update its name, host, process
        id and ``last_heartbeat``. Each run of ``flow_run_ids`` that the worker claimed
        and that is Pending, Running or Cancelling gets its heartbeat set to ``now``
        (a run it claimed but does not name, such as a claim whose answer was lost,
        ages, and the monitor crashes it).

        Returns the ids of those runs whose cancellation was requested (a Cancelling
        state recorded since they were last Scheduled, even if their process recorded
        another state right after it), oldest first; an empty list when there is none.

        Raises:
            WorkPoolNotFound: the worker's pool does not exist (the message lists those
                that do).
        """

    @abc.abstractmethod
    def read_worker(self, worker_id: str) -> WorkerRecord | None:
        """The worker with this id, or None if it never sent a heartbeat or was deleted."""

    @abc.abstractmethod
    def list_workers(self, *, pool_name: str | None = None) -> list[WorkerRecord]:
        """The workers (of the pool given), by pool, then most recent heartbeat first;
        an empty list when there is none. An unknown pool has none."""

    @abc.abstractmethod
    def delete_worker(self, worker_id: str) -> bool:
        """Forget a worker (one that stopped); its runs are not changed. Returns False
        when it is unknown."""

    @abc.abstractmethod
    def next_due_time(
        self, pool_name: str, *, queues: Collection[str] | None = None
    ) -> float | None:
        """When the soonest run of the pool in a Scheduled-type state is due (its
        ``expected_start_time``), among the queues named if given; None when the pool
        has no such run, or does not exist. Paused pools and queues are not looked at:
        a due time may be returned for runs a claim would not give."""

    @abc.abstractmethod
    def claim_flow_runs_waiting(
        self,
        pool_name: str,
        worker_id: str,
        limit: int,
        *,
        wait: float,
        queues: Collection[str] | None = None,
    ) -> list[FlowRun]:
        """Claim due runs as :meth:`~cadenza.store.deploy_base.DeploymentStore.claim_flow_runs`
        does, waiting up to ``wait`` seconds for one to become due.

        Returns as soon as runs are claimed, in the order taken; an empty list when
        none could be claimed within ``wait`` seconds (nothing due, a limit reached,
        the pool paused, or ``limit`` 0 or less). A run that becomes due during the
        wait is claimed at its time, or within ``CADENZA_WORKER_POLL_INTERVAL`` of
        being created.

        Raises:
            WorkPoolNotFound: the pool does not exist.
            WorkQueueNotFound: ``queues`` names a queue the pool does not have.
        """

    @abc.abstractmethod
    def release_flow_run(
        self, flow_run_id: str, worker_id: str, *, message: str, now: float | None = None
    ) -> bool:
        """Hand a run that ``worker_id`` claimed back to its pool, for another worker.

        In one transaction, when the run is claimed by ``worker_id`` and Pending,
        Running or Crashed: gives it a Scheduled-type state named ``Rescheduled``
        (with ``message``), which keeps its due time, so that it is claimed again at
        once, and clears its worker and heartbeat. Returns True then; False, with
        nothing changed, when the run is unknown, claimed by another worker (or by
        none), or in another state.
        """
