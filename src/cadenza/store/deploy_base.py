"""The deployment store interface: deployments, their schedules and runs, work pools.

One abstract class, one written contract per method, as for
:class:`~cadenza.store.base.RunStore`. :class:`~cadenza.store.sql.SqlStore` implements
both; :class:`~cadenza.client.http_deploy.HttpDeploymentStore` implements this one over
the server's REST API, so that the command line, ``flow.deploy``, workers and executed
runs work the same with and without a server. The contract tests in ``tests/store``
run against both.

Times are seconds since the epoch. ``now`` arguments exist so that callers (and tests)
decide what time it is; None means the current time.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Final

from cadenza.runs import FlowRun
from cadenza.states import State, StateType
from cadenza.store.concurrency_base import ConcurrencyLimitStore
from cadenza.store.worker_base import WorkerStore

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment
    from cadenza.deploy.pools import WorkPool, WorkQueue


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()
"""The value of an update's argument that is not given (the field keeps its value)."""

ACTIVE_RUN_STATES: Final = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CANCELLING})
"""States of runs that count against a concurrency limit (claimed and not finished)."""

AUTO_SCHEDULED_PREFIX: Final = "scheduled:"
"""Idempotency keys of the runs the scheduler creates: ``scheduled:<epoch seconds>``."""


def check_schedulable(runs: Sequence[FlowRun]) -> None:
    """Raise unless every run can be created by :meth:`DeploymentStore.create_scheduled_flow_runs`.

    Raises:
        DeploymentError: a run has no ``deployment_id``, ``expected_start_time`` or state.
    """
    from cadenza.exceptions import DeploymentError

    for run in runs:
        if run.deployment_id is None or run.expected_start_time is None or run.state is None:
            raise DeploymentError(
                f"Flow run {run.name!r} cannot be scheduled: a run of a deployment "
                "needs its deployment_id, expected_start_time and first state."
            )


class DeploymentStore(WorkerStore, ConcurrencyLimitStore, abc.ABC):
    """Where deployments, their schedules, their runs and work pools are kept, with the
    workers' heartbeats and the concurrency limits by tag (the methods of
    :class:`~cadenza.store.worker_base.WorkerStore` and
    :class:`~cadenza.store.concurrency_base.ConcurrencyLimitStore`)."""

    # -- deployments ---------------------------------------------------------------------
    @abc.abstractmethod
    def save_deployment(self, deployment: Deployment, *, now: float | None = None) -> Deployment:
        """Create the deployment, or update the one of the same flow and name.

        An update keeps the deployment's id and creation time; the id of
        ``deployment`` is ignored then. Its schedules replace the stored ones (their
        ids are kept when they did not change). When the schedules change, or the
        deployment becomes paused, its runs that the scheduler created for the future
        and that are still Scheduled are deleted, so that the scheduler creates them
        anew from the new schedules (or not at all while paused).

        Returns the stored deployment, with its id and the ids of its schedules.

        Raises:
            WorkPoolNotFound: its work pool does not exist (the message lists those
                that do).
            WorkQueueNotFound: its pool has no such queue (the message lists them).
            DeploymentError: a field is invalid (catch-up policy, limits, retries).
        """

    @abc.abstractmethod
    def read_deployment(self, deployment_id: str) -> Deployment | None:
        """The deployment with this id and its schedules, or None if unknown."""

    @abc.abstractmethod
    def read_deployment_by_name(self, flow_name: str, name: str) -> Deployment | None:
        """The deployment ``name`` of the flow ``flow_name``, or None if unknown."""

    @abc.abstractmethod
    def list_deployments(
        self, *, flow_name: str | None = None, work_pool_name: str | None = None
    ) -> list[Deployment]:
        """Deployments (with their schedules) of the flow and pool given, ordered by
        flow name then name; an empty list when none match."""

    @abc.abstractmethod
    def set_deployment_paused(
        self, deployment_id: str, paused: bool, *, now: float | None = None
    ) -> Deployment:
        """Pause or resume the schedules of a deployment; returns it.

        Pausing deletes the runs its schedules created for the future that are still
        Scheduled (runs created by hand stay). Doing what is done already changes
        nothing.

        Raises:
            DeploymentNotFound: no deployment has this id.
        """

    @abc.abstractmethod
    def delete_deployment(self, deployment_id: str) -> bool:
        """Delete a deployment, its schedules and its runs that have not started
        (Scheduled ones); runs that started stay. Returns False when it is unknown."""

    # -- runs of deployments ---------------------------------------------------------------
    @abc.abstractmethod
    def create_scheduled_flow_runs(self, runs: Sequence[FlowRun]) -> list[FlowRun]:
        """Record new flow runs of deployments, each in the state it carries (a
        Scheduled state), in one transaction.

        A run whose ``idempotency_key`` another run of its deployment has already is
        not created: so two schedulers creating the same runs at once create each
        run once. Returns the runs created, in the order given.

        Raises:
            DeploymentError: a run has no ``deployment_id``, ``expected_start_time``
                or state.
            StoreError: the database could not be written; nothing was created.
        """

    @abc.abstractmethod
    def list_scheduled_flow_runs(
        self,
        *,
        deployment_id: str | None = None,
        work_pool_name: str | None = None,
        before: float | None = None,
        state_names: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[FlowRun]:
        """Runs of deployments in a Scheduled-type state (``Scheduled``, ``Late``,
        ``AwaitingRetry``...), soonest due first, at most ``limit``.

        Only those of the deployment and pool given, due before ``before``, and whose
        state's name is one of ``state_names``. No history is loaded. Returns an
        empty list when none match.
        """

    @abc.abstractmethod
    def mark_late_flow_runs(
        self, *, before: float, now: float | None = None, limit: int = 1000
    ) -> list[FlowRun]:
        """Give the state ``Late`` to runs still ``Scheduled`` that were due before
        ``before``, at most ``limit`` of them, soonest due first, in one transaction.

        Returns the runs marked, with their new state; a run marked already is not
        marked again.
        """

    @abc.abstractmethod
    def claim_flow_runs(
        self,
        pool_name: str,
        worker_id: str,
        limit: int,
        now: float | None = None,
        queues: Collection[str] | None = None,
    ) -> list[FlowRun]:
        """Claim up to ``limit`` due runs of a work pool for a worker, atomically.

        In one transaction: takes the pool's runs in a Scheduled-type state that are
        due (``expected_start_time`` at or before ``now``), queue by queue in priority
        order (lower first), soonest due first within a queue, skipping paused queues
        and, with ``queues``, the queues not named; respects the concurrency limits of
        the pool, of each queue and of each deployment (runs Pending, Running or
        Cancelling count against them); gives each run taken the state Pending, its
        ``worker_id`` and a heartbeat at ``now``. Two workers claiming at once never
        get the same run.

        Returns the runs claimed (with their Pending state), in the order taken; an
        empty list when nothing is due, the pool is paused, a limit is reached or
        ``limit`` is 0 or less.

        Raises:
            WorkPoolNotFound: the pool does not exist.
            WorkQueueNotFound: ``queues`` names a queue the pool does not have.
        """

    # -- work pools and queues ---------------------------------------------------------------
    @abc.abstractmethod
    def create_work_pool(self, pool: WorkPool, *, now: float | None = None) -> WorkPool:
        """Create a work pool and its ``default`` queue; returns the stored pool.

        Raises:
            ObjectAlreadyExists: a pool of this name exists.
            DeploymentError: the name is empty or the limit negative.
        """

    @abc.abstractmethod
    def read_work_pool(self, name: str) -> WorkPool | None:
        """The work pool of this name, or None if unknown."""

    @abc.abstractmethod
    def list_work_pools(self) -> list[WorkPool]:
        """Every work pool, by name (an empty list when there is none)."""

    @abc.abstractmethod
    def update_work_pool(
        self,
        name: str,
        *,
        description: str | None = UNSET,
        paused: bool = UNSET,
        concurrency_limit: int | None = UNSET,
    ) -> WorkPool:
        """Change the fields given (the others keep their values); returns the pool.

        Raises:
            WorkPoolNotFound: the pool does not exist.
            DeploymentError: the limit is negative.
        """

    @abc.abstractmethod
    def create_work_queue(self, queue: WorkQueue, *, now: float | None = None) -> WorkQueue:
        """Create a queue in a work pool; returns the stored queue.

        Raises:
            WorkPoolNotFound: its pool does not exist.
            ObjectAlreadyExists: the pool has a queue of this name.
            DeploymentError: the name is empty, the priority below 1 or the limit
                negative.
        """

    @abc.abstractmethod
    def read_work_queue(self, pool_name: str, name: str) -> WorkQueue | None:
        """The queue ``name`` of the pool, or None if the pool or the queue is unknown."""

    @abc.abstractmethod
    def list_work_queues(self, pool_name: str) -> list[WorkQueue]:
        """The queues of a pool in priority order (lower first), then by name.

        Raises:
            WorkPoolNotFound: the pool does not exist.
        """

    @abc.abstractmethod
    def update_work_queue(
        self,
        pool_name: str,
        name: str,
        *,
        description: str | None = UNSET,
        priority: int = UNSET,
        paused: bool = UNSET,
        concurrency_limit: int | None = UNSET,
    ) -> WorkQueue:
        """Change the fields given (the others keep their values); returns the queue.

        Raises:
            WorkPoolNotFound: the pool does not exist.
            WorkQueueNotFound: the pool has no such queue.
            DeploymentError: the priority is below 1 or the limit negative.
        """

    # -- flow runs, as the run store has them ----------------------------------------------------
    @abc.abstractmethod
    def read_flow_run(self, flow_run_id: str) -> FlowRun | None:
        """The flow run with this id and its full state history, or None if unknown
        (as :meth:`RunStore.read_flow_run <cadenza.store.base.RunStore.read_flow_run>`)."""

    @abc.abstractmethod
    def add_flow_run_state_if(
        self, flow_run_id: str, state: State, *, current: Collection[StateType]
    ) -> bool:
        """Add ``state`` to a flow run whose current state's type is one of ``current``
        (a compare-and-set, as :meth:`RunStore.add_flow_run_state_if
        <cadenza.store.base.RunStore.add_flow_run_state_if>`); False when it is not."""
