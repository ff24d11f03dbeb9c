"""The repository's cadenza.yaml deploys the pipeline monthly; a run of its schedule
picks its months from its scheduled time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from examples.taxi.months import months_before, training_month_for

from cadenza import TrackingClient
from cadenza.cli.main import cli
from cadenza.client import get_deployment_store
from cadenza.deploy.backfill import backfill
from cadenza.deploy.execute import execute_flow_run
from cadenza.states import StateType
from examples.taxi import train_duration_model

REPOSITORY = Path(__file__).resolve().parents[3]


def test_cadenza_yaml_deploys_the_pipeline_and_its_runs_pick_their_months(
    monkeypatch: pytest.MonkeyPatch, months_dir: Path
) -> None:
    monkeypatch.chdir(REPOSITORY)
    done = CliRunner().invoke(cli, ["deploy", "--all"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "Deployed train-duration-model/monthly on work pool 'training'" in done.output

    store = get_deployment_store()
    deployment = store.read_deployment_by_name("train-duration-model", "monthly")
    assert deployment is not None
    assert deployment.entrypoint == "examples.taxi.flow:train_duration_model"
    assert Path(deployment.path or "") == REPOSITORY
    assert (deployment.work_pool_name, deployment.work_queue_name) == ("training", "default")
    assert [s.schedule.describe() for s in deployment.schedules] == ["cron 0 6 2 * * (UTC)"]
    assert deployment.parameters == {
        "year": None,
        "month": None,
        "months_back": 3,
        "trials": 10,
        "model_name": "taxi-duration",
    }
    assert deployment.parameter_schema is not None
    assert {"year", "month", "months_back"} <= set(deployment.parameter_schema["properties"])
    ahead = [r.state for r in store.list_flow_runs() if r.deployment_id == deployment.id]
    assert ahead and all(s is not None and s.type is StateType.SCHEDULED for s in ahead)

    # The run its schedule makes on 2 March 2023 validates on February, trains on
    # January (with the months of the tests, one month back rather than the TLC's three).
    start = dt.datetime(2023, 3, 1, tzinfo=dt.UTC)
    made = backfill(
        store,
        deployment,
        start,
        start + dt.timedelta(days=2),
        parameters={"source": str(months_dir), "months_back": 1, "trials": 1},
    )
    (run,) = made.created
    state = execute_flow_run(run.id)
    assert state.type is StateType.COMPLETED, state.message
    tags = TrackingClient().get_run(run.id).data.tags
    assert (tags["train_month"], tags["validation_month"]) == ("2023-01", "2023-02")
    assert tags["model_alias"] == "champion"


@pytest.mark.parametrize(
    ("when", "months_back", "training"),
    [
        (dt.date(2023, 3, 2), 1, (2023, 1)),
        (dt.date(2025, 6, 2), 3, (2025, 2)),
        (dt.date(2024, 1, 2), 1, (2023, 11)),  # validates on December
        (dt.date(2024, 2, 2), 1, (2023, 12)),  # validates on January of the next year
    ],
)
def test_the_training_month_of_a_scheduled_time(
    when: dt.date, months_back: int, training: tuple[int, int]
) -> None:
    assert training_month_for(when, months_back) == training


def test_months_before_crosses_years() -> None:
    assert months_before(2023, 1, 1) == (2022, 12)
    assert months_before(2023, 3, 15) == (2021, 12)
    assert months_before(2023, 12, -1) == (2024, 1)


def test_a_year_without_a_month_is_refused() -> None:
    with pytest.raises(ValueError, match=r"Give both year and month \(got year=2023, month=None\)"):
        train_duration_model(2023, None)
