"""The scheduler: runs created ahead, no duplicates, late runs, catch-up policies."""

from __future__ import annotations

import datetime as dt
import threading

from cadenza.deploy.deployments import Deployment, DeploymentSchedule
from cadenza.deploy.scheduler import Scheduler
from cadenza.deploy.schedules import Cron, Interval
from cadenza.states import StateType
from cadenza.store.sql import SqlStore

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC).timestamp()


def deployment(store: SqlStore, *schedules: object, **fields: object) -> Deployment:
    return store.save_deployment(
        Deployment(
            "train",
            str(fields.pop("name", "d")),
            "flows.py:train",
            "pool",
            schedules=[
                s if isinstance(s, DeploymentSchedule) else DeploymentSchedule(s) for s in schedules
            ],  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        ),
        now=NOW,
    )


def scheduler(store: SqlStore, **kw: float) -> Scheduler:
    values = {"horizon": 3600.0, "max_runs": 100, "min_runs": 3, "late_after": 15.0, **kw}
    return Scheduler(store, **values)  # type: ignore[arg-type]


def due_times(store: SqlStore, **kw: object) -> list[float]:
    return [r.expected_start_time or 0 for r in store.list_scheduled_flow_runs(limit=1000, **kw)]  # type: ignore[arg-type]


def test_runs_are_created_ahead_for_the_horizon_and_once(store: SqlStore) -> None:
    deployment(store, Interval(600))
    s = scheduler(store)
    assert s.tick(now=NOW).created == 6
    assert due_times(store) == [NOW + 600 * i for i in range(6)]
    assert s.tick(now=NOW).created == 0
    assert s.tick(now=NOW + 600).created == 1  # the horizon moved by one interval
    assert len(due_times(store)) == 7


def test_a_monthly_schedule_has_its_next_runs_beyond_the_horizon(store: SqlStore) -> None:
    deployment(store, Cron("0 9 3 * *", "Europe/Zurich"))
    scheduler(store, horizon=86400).tick(now=NOW)
    runs = store.list_scheduled_flow_runs()
    assert [r.expected_start_time for r in runs] == [
        dt.datetime(2024, m, 3, 7, 0, tzinfo=dt.UTC).timestamp() for m in (6, 7, 8)
    ]  # 09:00 in Zurich (CEST)
    assert all(r.state is not None and r.state.name == "Scheduled" for r in runs)


def test_max_runs_bounds_the_runs_ahead(store: SqlStore) -> None:
    deployment(store, Interval(60))
    scheduler(store, max_runs=10).tick(now=NOW)
    assert len(due_times(store)) == 10


def test_two_schedulers_at_once_create_each_run_once(store: SqlStore) -> None:
    deployment(store, Interval(60), name="a")
    deployment(store, Cron("*/5 * * * *"), name="b")
    other = SqlStore(store.url)
    barrier = threading.Barrier(2)
    created: list[int] = []

    def run(s: SqlStore) -> None:
        barrier.wait()
        created.append(scheduler(s).tick(now=NOW).created)

    try:
        threads = [threading.Thread(target=run, args=(s,)) for s in (store, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    assert sum(created) == 60 + 12
    assert len(due_times(store)) == 72


def test_paused_deployments_and_inactive_schedules_create_nothing(store: SqlStore) -> None:
    deployment(store, Interval(600), name="paused", paused=True)
    deployment(store, DeploymentSchedule(Interval(600), active=False), name="inactive")
    deployment(store, name="none")
    assert scheduler(store).tick(now=NOW).created == 0


def test_late_runs_are_marked_after_the_threshold(store: SqlStore) -> None:
    deployment(store, Interval(600))
    s = scheduler(store)
    s.tick(now=NOW)
    assert s.tick(now=NOW + 10).late == 0
    report = s.tick(now=NOW + 20)
    assert report.late == 1
    (late,) = store.list_scheduled_flow_runs(state_names=["Late"])
    assert late.expected_start_time == NOW


def catch_up_after_outage(store: SqlStore, policy: str) -> dict[str, list[float]]:
    d = deployment(store, Interval(600), catchup=policy)
    s = scheduler(store)
    s.tick(now=NOW)
    s.tick(now=NOW + 3 * 600 + 20)  # workers down for three intervals
    by_state: dict[str, list[float]] = {}
    for r in store.list_flow_runs(limit=1000, oldest_first=True):
        assert r.deployment_id == d.id
        assert r.state is not None
        by_state.setdefault(r.state.name, []).append((r.expected_start_time or 0) - NOW)
    return by_state


def test_catch_up_all_runs_every_missed_run(store: SqlStore) -> None:
    states = catch_up_after_outage(store, "all")
    assert states["Late"] == [0, 600, 1200, 1800]
    assert "Skipped" not in states


def test_catch_up_latest_runs_only_the_most_recent(store: SqlStore) -> None:
    states = catch_up_after_outage(store, "latest")
    assert states["Late"] == [1800]
    assert states["Skipped"] == [0, 600, 1200]
    skipped = store.list_flow_runs(limit=1)[0]
    assert skipped.state is not None


def test_catch_up_skip_runs_none(store: SqlStore) -> None:
    states = catch_up_after_outage(store, "skip")
    assert states["Skipped"] == [0, 600, 1200, 1800]
    assert "Late" not in states
    run = next(r for r in store.list_flow_runs(limit=100) if r.state and r.state.name == "Skipped")
    assert run.state is not None and run.state.type is StateType.CANCELLED
    assert "catch-up policy 'skip'" in (run.state.message or "")
