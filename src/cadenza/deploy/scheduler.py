"""The scheduler: creates the runs of deployments ahead of time, marks late runs, and
applies each deployment's catch-up policy.

One pass (:meth:`Scheduler.tick`) is idempotent: every run it creates has the
idempotency key of its deployment and time, which the store creates once, so two
schedulers at once (a server's service and a worker on the embedded store, or two
workers) create each run once. ``now`` is given to every pass, so tests drive it with
explicit times.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from cadenza.deploy.runs import new_deployment_run, scheduled_key
from cadenza.states import State, StateType
from cadenza.store.deploy_base import AUTO_SCHEDULED_PREFIX

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment
    from cadenza.runs import FlowRun
    from cadenza.settings import Settings
    from cadenza.store.deploy_base import DeploymentStore

logger = logging.getLogger("cadenza.deploy.scheduler")

_FAR = 366 * 86_400.0
"""How far ahead the scheduler looks for a deployment's minimum number of runs."""


def Skipped(message: str, timestamp: float | None = None) -> State:
    """The state of a run the catch-up policy decided not to run (a Cancelled state)."""
    return State(StateType.CANCELLED, "Skipped", message=message, timestamp=timestamp)


@dataclasses.dataclass
class TickReport:
    """What one pass of the scheduler did."""

    created: int = 0
    late: int = 0
    skipped: int = 0


class Scheduler:
    """Creates runs ahead for a horizon, marks late runs, applies catch-up.

    Args:
        store: where deployments and runs are.
        horizon: seconds ahead to create runs for.
        max_runs: runs of one deployment created ahead at most.
        min_runs: runs of one deployment created ahead at least (looking up to a year
            ahead), so that a monthly schedule has its next runs.
        late_after: seconds after its time a run still Scheduled becomes Late.

    Values left None come from the settings.
    """

    def __init__(
        self,
        store: DeploymentStore,
        *,
        horizon: float | None = None,
        max_runs: int | None = None,
        min_runs: int | None = None,
        late_after: float | None = None,
        settings: Settings | None = None,
    ) -> None:
        if settings is None:
            from cadenza.settings import get_settings

            settings = get_settings()
        self.store = store
        self.horizon = settings.scheduler_horizon if horizon is None else horizon
        self.max_runs = settings.scheduler_max_runs if max_runs is None else max_runs
        self.min_runs = settings.scheduler_min_runs if min_runs is None else min_runs
        self.late_after = settings.late_runs_after if late_after is None else late_after

    def tick(self, now: float | None = None) -> TickReport:
        """One pass: schedule every deployment, mark late runs, apply catch-up."""
        when = time.time() if now is None else now
        report = TickReport()
        for deployment in self.store.list_deployments():
            report.created += len(self.schedule(deployment, when))
        late = self.store.mark_late_flow_runs(before=when - self.late_after, now=when)
        report.late = len(late)
        if late:
            report.skipped = self.catch_up(late, when)
        if report.created or report.late or report.skipped:
            logger.debug("Scheduler pass at %.3f: %s", when, report)
        return report

    def upcoming(self, deployment: Deployment, now: float) -> list[tuple[float, str]]:
        """The times the deployment's active schedules call for, from ``now``: those within
        the horizon, at least ``min_runs`` and at most ``max_runs``, each with the
        timezone of its schedule."""
        if deployment.paused:
            return []
        found: dict[float, str] = {}
        for s in deployment.schedules:
            if not s.active:
                continue
            times = s.schedule.next_times(now, now + self.horizon, limit=self.max_runs)
            if len(times) < self.min_runs:
                times = s.schedule.next_times(now, now + _FAR, limit=self.min_runs)
            for t in times:
                found.setdefault(t.timestamp(), s.schedule.timezone)
        return sorted(found.items())[: self.max_runs]

    def schedule(self, deployment: Deployment, now: float | None = None) -> list[FlowRun]:
        """Create the deployment's runs that its schedules call for from ``now`` and that
        do not exist yet; returns the runs created."""
        when = time.time() if now is None else now
        wanted = self.upcoming(deployment, when)
        if not wanted:
            return []
        existing = {
            r.idempotency_key
            for r in self.store.list_scheduled_flow_runs(
                deployment_id=deployment.id, limit=self.max_runs + len(wanted)
            )
        }
        runs = [
            new_deployment_run(
                deployment,
                t,
                idempotency_key=scheduled_key(t),
                timezone=tz,
                now=when,
            )
            for t, tz in wanted
            if scheduled_key(t) not in existing
        ]
        return self.store.create_scheduled_flow_runs(runs) if runs else []

    def catch_up(self, late: list[FlowRun], now: float) -> int:
        """Apply the catch-up policy of the deployments of runs that just became Late;
        returns how many runs were skipped. Only the runs schedules created are
        concerned (not runs started by hand, nor backfills)."""
        by_deployment: dict[str, list[FlowRun]] = defaultdict(list)
        for run in late:
            if run.deployment_id and (run.idempotency_key or "").startswith(AUTO_SCHEDULED_PREFIX):
                by_deployment[run.deployment_id].append(run)
        skipped = 0
        for deployment_id in by_deployment:
            deployment = self.store.read_deployment(deployment_id)
            if deployment is None or deployment.catchup == "all":
                continue
            missed = [
                r
                for r in self.store.list_scheduled_flow_runs(
                    deployment_id=deployment_id, state_names=["Late"], limit=10_000
                )
                if (r.idempotency_key or "").startswith(AUTO_SCHEDULED_PREFIX)
            ]
            if deployment.catchup == "latest":
                missed = missed[:-1]
                why = "a later run of the deployment is due (catch-up policy 'latest')"
            else:
                why = "it missed its time (catch-up policy 'skip')"
            for run in missed:
                if self.store.add_flow_run_state_if(
                    run.id,
                    Skipped(f"Not run: {why}.", timestamp=now),
                    current=[StateType.SCHEDULED],
                ):
                    skipped += 1
        return skipped
