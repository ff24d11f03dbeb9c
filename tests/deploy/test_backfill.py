"""Backfills, runs started by hand, and the parameters they are checked against."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from cadenza.deploy.backfill import backfill, run_deployment
from cadenza.deploy.deployments import DeploymentSchedule, build_deployment
from cadenza.deploy.execute import execute_flow_run
from cadenza.deploy.schedules import Cron
from cadenza.exceptions import DeploymentError, ParameterTypeError
from cadenza.store.sql import SqlStore
from cadenza.utilities.entrypoints import load_flow

FLOWS = """
from cadenza import flow
from cadenza.runtime import flow_run


@flow
def monthly(year: int, month: int, label: str = "x") -> str:
    when = flow_run.scheduled_start_time
    return f"{year}-{month:02d} {label} {when.isoformat()}"
"""


@pytest.fixture
def monthly(store: SqlStore, flow_file: Callable[[str], Path]):  # type: ignore[no-untyped-def]
    path = flow_file(FLOWS)
    flow = load_flow(f"{path}:monthly")
    d = build_deployment(
        flow,
        "monthly",
        work_pool_name="pool",
        path=path.parent,
        schedules=[DeploymentSchedule(Cron("0 0 1 * *", "Europe/Zurich"))],
    )
    return store.save_deployment(d)


def test_a_backfill_of_six_months_creates_six_runs_with_their_dates(
    store: SqlStore, monthly
) -> None:  # type: ignore[no-untyped-def]
    result = backfill(
        store,
        monthly,
        dt.datetime(2023, 1, 1),
        dt.datetime(2023, 7, 1),
        param_from_date=["year", "month", "label=%Y/%m"],
    )
    assert len(result.created) == 6
    assert result.existing == 0
    assert [r.parameters for r in result.created] == [
        {"year": 2023, "month": m, "label": f"2023/{m:02d}"} for m in range(1, 7)
    ]
    # Due now (in order), each standing for midnight of the 1st in Zurich.
    due = [r.expected_start_time or 0 for r in result.created]
    assert due == sorted(due)
    state = execute_flow_run(result.created[0].id)
    assert state.result() == "2023-01 2023/01 2023-01-01T00:00:00+01:00"
    state = execute_flow_run(result.created[5].id)
    assert state.result() == "2023-06 2023/06 2023-06-01T00:00:00+02:00"
    again = backfill(
        store,
        monthly,
        dt.datetime(2023, 1, 1),
        dt.datetime(2023, 8, 1),
        param_from_date=["year", "month"],
    )
    assert (len(again.created), again.existing) == (1, 6)


def test_a_backfill_checks_every_run_before_creating_any(store: SqlStore, monthly) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterTypeError, match=r"missing parameter 'year' \(integer\)"):
        backfill(store, monthly, dt.datetime(2023, 1, 1), dt.datetime(2023, 3, 1))
    with pytest.raises(ParameterTypeError, match="'month' must be integer"):
        backfill(
            store,
            monthly,
            dt.datetime(2023, 1, 1),
            dt.datetime(2023, 3, 1),
            param_from_date=["year", "month=%B"],
        )
    assert store.list_scheduled_flow_runs() == []
    with pytest.raises(DeploymentError, match="no time in the range"):
        backfill(store, monthly, dt.datetime(2023, 1, 2), dt.datetime(2023, 1, 3))


def test_a_run_by_hand_is_checked_then_created(store: SqlStore, monthly) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterTypeError) as info:
        run_deployment(store, monthly, {"year": "twenty", "month": 1})
    message = str(info.value)
    assert "'year' must be integer" in message
    assert "year (integer), month (integer), label (text)" in message
    with pytest.raises(ParameterTypeError, match=r"unknown parameter 'mnth'.*did you mean 'month'"):
        run_deployment(store, monthly, {"year": 2024, "mnth": 1})
    assert store.list_scheduled_flow_runs() == []
    run = run_deployment(store, monthly, {"year": "2024", "month": 2}, start_at=1e9)
    assert run.parameters == {"year": 2024, "month": 2}
    assert run.expected_start_time == 1e9
    assert execute_flow_run(run.id).result().startswith("2024-02 x 2001-09-09T01:46:40")
