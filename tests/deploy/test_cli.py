"""The command line of deployments and work pools: cadenza deploy, deployment, work-pool."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cadenza.cli.main import cli
from cadenza.deploy.execute import execute_flow_run
from cadenza.store.sql import SqlStore

FLOWS = """
from cadenza import flow


@flow(retries=1)
def monthly_training(year: int, month: int = 1, mode: str = "fast") -> str:
    return f"{year}-{month} {mode}"
"""


@pytest.fixture
def invoke(
    store: SqlStore, flow_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    path = flow_file(FLOWS)
    monkeypatch.chdir(path.parent)

    def run(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def deployed(invoke: Callable[..., Result], *extra: str, code: int = 0) -> Result:
    return invoke(
        "deploy",
        "flows.py:monthly_training",
        "--name",
        "monthly",
        "--pool",
        "training",
        "--cron",
        "0 9 3 * *",
        "--timezone",
        "Europe/Zurich",
        "--param",
        "year=2024",
        *extra,
        code=code,
    )


def test_deploy_creates_the_pool_the_deployment_and_its_next_runs(
    invoke: Callable[..., Result], store: SqlStore
) -> None:
    out = deployed(invoke, "--tag", "taxi", "--catchup", "latest").output
    assert "Deployed monthly-training/monthly on work pool 'training'" in out
    assert "cron 0 9 3 * * (Europe/Zurich)" in out
    d = store.read_deployment_by_name("monthly-training", "monthly")
    assert d is not None
    assert (d.entrypoint, d.parameters, d.tags, d.catchup) == (
        "flows.py:monthly_training",
        {"year": 2024},
        ["taxi"],
        "latest",
    )
    assert d.flow_retries == 1
    assert d.parameter_schema["required"] == ["year"]
    assert len(store.list_scheduled_flow_runs(deployment_id=d.id)) == 3
    listing = json.loads(invoke("deployment", "ls", "--json").output)
    assert [x["full_name"] for x in listing] == ["monthly-training/monthly"]
    shown = json.loads(invoke("deployment", "inspect", "monthly-training/monthly", "--json").output)
    assert len(shown["next_runs"]) == 3
    assert shown["schedules"][0]["cron"] == "0 9 3 * *"
    text = invoke("deployment", "inspect", "monthly-training/monthly").output
    assert "Next runs:" in text
    assert "flows.py:monthly_training" in text
    assert "training" in invoke("work-pool", "ls").output


def test_a_run_now_checks_its_parameters_first(
    invoke: Callable[..., Result], store: SqlStore
) -> None:
    deployed(invoke)
    bad = invoke("deployment", "run", "monthly-training/monthly", "--param", "month=March", code=1)
    assert "parameter 'month' must be integer" in bad.output
    assert "year (integer), month (integer), mode (text)" in bad.output
    unknown = invoke("deployment", "run", "monthly-training/monthly", "--param", "mnth=3", code=1)
    assert "did you mean 'month'" in unknown.output
    assert len(store.list_scheduled_flow_runs()) == 3
    made = json.loads(
        invoke(
            "deployment",
            "run",
            "monthly-training/monthly",
            "--param",
            "month=3",
            "--param",
            "mode=123",
            "--start-in",
            "10m",
            "--json",
        ).output
    )
    assert made["parameters"] == {"year": 2024, "month": 3, "mode": "123"}
    assert made["expected_start_time_epoch"] > made["created_epoch"] + 590
    assert execute_flow_run(made["id"]).result() == "2024-3 123"
    missing = invoke("deployment", "run", "nope/none", code=1)
    assert "There is no deployment 'nope/none'" in missing.output
    assert "monthly-training/monthly" in missing.output


def test_pause_resume_and_backfill(invoke: Callable[..., Result], store: SqlStore) -> None:
    deployed(invoke)
    invoke("deployment", "pause", "monthly-training/monthly")
    assert store.list_scheduled_flow_runs() == []
    assert "paused" in invoke("deployment", "ls").output
    assert "3 run(s) scheduled" in invoke("deployment", "resume", "monthly-training/monthly").output
    out = invoke(
        "deployment",
        "backfill",
        "monthly-training/monthly",
        "--start",
        "2023-01-01",
        "--end",
        "2023-07-01",
        "--param-from-date",
        "month",
        "--json",
    ).output
    result = json.loads(out)
    assert [r["parameters"]["month"] for r in result["created"]] == [1, 2, 3, 4, 5, 6]
    assert result["times"][0] == "2023-01-03T09:00:00+01:00"
    assert result["times"][5] == "2023-06-03T09:00:00+02:00"
    again = invoke(
        "deployment",
        "backfill",
        "monthly-training/monthly",
        "--start",
        "2023-01-01",
        "--end",
        "2023-07-01",
        "--param-from-date",
        "month",
    ).output
    assert "0 run(s) created, 6 existed already" in again


def test_bad_options_are_clear_errors(invoke: Callable[..., Result]) -> None:
    out = deployed(invoke, "--cron", "0 25 * * *", code=1).output
    assert "the hour field '25'" in out
    out = invoke("deploy", "flows.py:monthly_training", "--name", "x", code=1).output
    assert "--pool" in out
    out = invoke("deploy", "flows.py:nothing", "--name", "x", "--pool", "p", code=1).output
    assert "has no 'nothing'" in out
    out = deployed(invoke, "--param", "year=soon", code=1).output
    assert "'year' must be integer" in out
    deployed(invoke)
    out = invoke("deployment", "run", "monthly-training/monthly", "--start-in", "soon", code=1)
    assert "--start-in 'soon' is not a duration" in out.output


def test_work_pools_and_queues(invoke: Callable[..., Result], store: SqlStore) -> None:
    invoke("work-pool", "create", "gpu", "--concurrency-limit", "2", "--description", "GPUs")
    assert "exists already" in invoke("work-pool", "create", "gpu", code=1).output
    invoke("work-pool", "queue", "create", "gpu", "urgent", "--priority", "1")
    invoke("work-pool", "queue", "update", "gpu", "default", "--priority", "2", "--pause")
    shown = json.loads(invoke("work-pool", "inspect", "gpu", "--json").output)
    assert shown["concurrency_limit"] == 2
    assert [(q["name"], q["priority"], q["paused"]) for q in shown["queues"]] == [
        ("urgent", 1, False),
        ("default", 2, True),
    ]
    invoke("work-pool", "pause", "gpu")
    invoke("work-pool", "update", "gpu", "--concurrency-limit", "none")
    pool = store.read_work_pool("gpu")
    assert pool is not None
    assert (pool.paused, pool.concurrency_limit) == (True, None)
    assert "There is no work pool 'cpu'" in invoke("work-pool", "inspect", "cpu", code=1).output


def test_deploy_all_from_cadenza_yaml(
    invoke: Callable[..., Result], store: SqlStore, flow_file: Callable[..., Path]
) -> None:
    flow_file(
        textwrap.dedent(
            """
            deployments:
              - name: monthly
                entrypoint: flows.py:monthly_training
                work_pool: {name: training, work_queue_name: default}
                parameters: {year: 2023}
                schedules:
                  - cron: "0 9 3 * *"
                    timezone: Europe/Zurich
                catchup: skip
              - name: hourly
                entrypoint: flows.py:monthly_training
                work_pool: training
                interval: 1h
                parameters: {year: 2024}
            """
        ),
        name="cadenza.yaml",
    )
    out = invoke("deploy", "--all").output
    assert "monthly-training/monthly" in out and "monthly-training/hourly" in out
    hourly = store.read_deployment_by_name("monthly-training", "hourly")
    assert hourly is not None
    assert hourly.schedules[0].schedule.describe().startswith("every 1h00m")
    monthly = store.read_deployment_by_name("monthly-training", "monthly")
    assert monthly is not None and monthly.catchup == "skip"
    bad = "deployments:\n  - name: x\n    entrypoint: flows.py:monthly_training\n"
    flow_file(bad + "    work_pool: p\n    cron: '0 9'\n", name="cadenza.yaml")
    out = invoke("deploy", "--all", code=1).output
    assert "cadenza.yaml, deployment 'x'" in out and "has 2 field" in out
