"""``cadenza models ls|show|alias|stage`` on models registered by real flows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cadenza.registry.client import RegistryClient


class Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, frame: Any) -> list[float]:
        return [self.value] * len(frame)


def invoke(*args: str, exit_code: int = 0) -> Result:
    from cadenza.cli.main import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return result


@pytest.fixture
def registered(log_in_flow: Any) -> None:
    for value in (1.0, 2.0, 3.0):
        log_in_flow(Constant(value), registered_model_name="taxi-duration")
    log_in_flow(Constant(0.0), registered_model_name="fare")


def test_ls_without_a_database_says_how_to_register() -> None:
    assert "No registered models yet" in invoke("models", "ls").output
    assert json.loads(invoke("models", "ls", "--json").output) == []
    out = invoke("models", "show", "taxi", exit_code=1).output
    assert "no cadenza database" in out


@pytest.mark.usefixtures("registered")
def test_ls_lists_latest_versions_aliases_and_stages() -> None:
    client = RegistryClient()
    client.set_registered_model_alias("taxi-duration", "champion", 2)
    client.transition_model_version_stage("taxi-duration", 3, "Staging")
    out = invoke("models", "ls").output
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "v3" in lines["taxi-duration"]
    assert "@champion: v2" in lines["taxi-duration"]
    assert "Staging: v3" in lines["taxi-duration"]
    assert "v1" in lines["fare"]
    listed = json.loads(invoke("models", "ls", "--json").output)
    assert [m["name"] for m in listed] == ["fare", "taxi-duration"]
    assert listed[1]["aliases"] == {"champion": 2}
    assert listed[1]["updated"].endswith("Z")
    filtered = json.loads(invoke("models", "ls", "--filter", "name LIKE 'taxi%'", "--json").output)
    assert [m["name"] for m in filtered] == ["taxi-duration"]


@pytest.mark.usefixtures("registered")
def test_alias_moves_and_show_has_the_history() -> None:
    assert invoke("models", "alias", "taxi-duration", "1", "champion").output.strip() == (
        "taxi-duration@champion -> version 1"
    )
    moved = json.loads(
        invoke(
            "models", "alias", "taxi-duration", "3", "champion", "--comment", "better", "--json"
        ).output
    )
    assert (moved["version"], moved["aliases"]) == (3, ["champion"])
    out = invoke("models", "show", "taxi-duration").output
    assert "@champion v1 -> v3" in out
    assert "@champion new -> v1" in out
    assert "better" in out
    shown = json.loads(invoke("models", "show", "taxi-duration", "--json").output)
    assert [v["version"] for v in shown["versions"]] == [3, 2, 1]
    assert [t["to_value"] for t in shown["history"]] == ["1", "3"]
    out = invoke("models", "alias", "taxi-duration", "2", "champion", "--delete", exit_code=1)
    assert "points at version 3, not 2" in out.output
    invoke("models", "alias", "taxi-duration", "3", "champion", "--delete")
    assert RegistryClient().get_registered_model("taxi-duration").aliases == {}


@pytest.mark.usefixtures("registered")
def test_stage_with_archive_existing_and_comment() -> None:
    invoke("models", "stage", "taxi-duration", "1", "production")
    out = invoke(
        "models",
        "stage",
        "taxi-duration",
        "2",
        "Production",
        "--archive-existing",
        "--comment",
        "rmse 4.1",
    ).output
    assert out.strip() == "Version 2 of 'taxi-duration': None -> Production"
    assert (
        "in Production already"
        in invoke("models", "stage", "taxi-duration", "2", "Production").output
    )
    shown = json.loads(invoke("models", "show", "taxi-duration", "--json").output)
    stages = {v["version"]: v["current_stage"] for v in shown["versions"]}
    assert stages == {1: "Archived", 2: "Production", 3: "None"}
    assert shown["history"][-1]["comment"] == "rmse 4.1"
    out = invoke("models", "show", "taxi-duration").output
    assert "stage None -> Production" in out
    assert "archived: version 2 moved to Production" in out


@pytest.mark.usefixtures("registered")
def test_errors_name_what_does_not_exist_and_what_does() -> None:
    out = invoke("models", "show", "taxi", exit_code=1).output
    assert "no registered model 'taxi'" in out
    assert "'fare', 'taxi-duration'" in out
    out = invoke("models", "alias", "taxi-duration", "9", "champion", exit_code=1).output
    assert "has no version 9; its versions are 1-3" in out
    out = invoke("models", "stage", "taxi-duration", "1", "Prod", exit_code=1).output
    assert "the stages are None, Staging, Production, Archived" in out
    out = invoke("models", "alias", "taxi-duration", "1", "latest", exit_code=1).output
    assert "not a valid alias" in out
    out = invoke("models", "alias", "taxi-duration", "x", "champion", exit_code=1).output
    assert "not a model version" in out
