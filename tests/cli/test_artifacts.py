"""``cadenza artifacts ls`` and ``cadenza artifacts show``."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from cadenza import flow, task
from cadenza.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from cadenza.reporting import reset_reporter
from cadenza.runs import Artifact
from cadenza.store import get_store
from tests.cli.conftest import Invoke

REPORT = """# Training report

The model got **better**.

- rmse: 4.1
- r2: 0.8
"""


@task
def evaluate(rmse: float) -> None:
    create_table_artifact(
        [{"model": "ridge", "rmse": rmse}, {"model": "tree", "rmse": math.nan}],
        key="model-scores",
        description="Scores of each model",
    )


@flow
def train(rmse: float) -> None:
    evaluate(rmse)
    create_markdown_artifact(REPORT, key="training-report")
    create_link_artifact("https://example.org/dashboards/7", "dashboard")


@dataclasses.dataclass
class Made:
    """Artifacts by name, read back from the store, oldest first."""

    by_name: dict[str, Artifact]
    outside: Artifact


@pytest.fixture
def made(home: Path) -> Made:
    """Two runs of ``train`` (3 artifacts each), then a markdown artifact outside runs."""
    train(4.5)
    train(4.1)
    outside_id = create_markdown_artifact("made [by hand]")
    reset_reporter()
    store = get_store()
    found = list(reversed(store.list_artifacts()))
    names = ["scores-1", "report-1", "link-1", "scores-2", "report-2", "link-2", "outside"]
    by_name = dict(zip(names, found, strict=True))
    assert by_name["outside"].id == outside_id
    reset_reporter()
    return Made(by_name, by_name["outside"])


def test_ls_lists_the_current_versions_and_keyless_artifacts_newest_first(
    made: Made, invoke: Invoke
) -> None:
    out = invoke("artifacts", "ls").output
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "KEY", "VERSION", "TYPE", "RUN", "CREATED", "DESCRIPTION"]
    rows = [line.split() for line in lines[1:]]
    assert [r[1:4] for r in rows] == [
        ["-", "-", "markdown"],
        ["-", "-", "link"],
        ["training-report", "2", "markdown"],
        ["model-scores", "2", "table"],
        ["-", "-", "link"],
    ]
    assert rows[0][4] == "-"  # outside any run
    assert "made [by hand]" in lines[1]
    assert "dashboard <https://example.org/dashboards/7>" in lines[2]
    assert "Training report" in lines[3]
    assert "/evaluate-0" in lines[4]
    assert "Scores of each model" in lines[4]
    assert "\x1b[" not in out


def test_ls_short_ids_are_enough_for_show(made: Made, invoke: Invoke) -> None:
    for line in invoke("artifacts", "ls", "--all-versions").output.splitlines()[1:]:
        short = line.split()[0]
        assert len(short) >= 8
        shown = invoke("artifacts", "show", short, "--json").output
        assert json.loads(shown)["id"].startswith(short)


def test_ls_all_versions_and_key(made: Made, invoke: Invoke) -> None:
    rows = json.loads(invoke("artifacts", "ls", "--all-versions", "--json").output)
    assert len(rows) == 7
    rows = json.loads(invoke("artifacts", "ls", "--key", "model-scores", "--json").output)
    assert [(r["id"], r["version"]) for r in rows] == [(made.by_name["scores-2"].id, 2)]
    rows = json.loads(
        invoke("artifacts", "ls", "--key", "model-scores", "--all-versions", "--json").output
    )
    assert [r["version"] for r in rows] == [2, 1]


def test_ls_by_flow_run_or_task_run(made: Made, invoke: Invoke) -> None:
    first = made.by_name["scores-1"]
    assert first.flow_run_id is not None
    assert first.task_run_id is not None
    rows = json.loads(invoke("artifacts", "ls", "--flow-run", first.flow_run_id, "--json").output)
    assert [r["id"] for r in rows] == [
        made.by_name[n].id for n in ("link-1", "report-1", "scores-1")
    ]
    rows = json.loads(
        invoke("artifacts", "ls", "--flow-run", first.task_run_id[:18], "--json").output
    )
    assert [r["id"] for r in rows] == [first.id]


def test_ls_json_has_stable_keys_and_the_runs(made: Made, invoke: Invoke) -> None:
    rows = json.loads(invoke("artifacts", "ls", "--json").output)
    keys = {
        "id",
        "key",
        "version",
        "type",
        "description",
        "data",
        "flow_run_id",
        "flow_run_name",
        "flow_name",
        "task_run_id",
        "task_run_name",
        "created",
        "created_epoch",
    }
    assert all(set(r) == keys for r in rows)
    outside, link, report, scores, _ = rows
    assert outside["flow_run_id"] is None
    assert outside["data"] == "made [by hand]"
    assert link["data"] == {"link": "https://example.org/dashboards/7", "link_text": "dashboard"}
    assert report["flow_name"] == "train"
    assert report["task_run_name"] is None
    assert scores["task_run_name"] == "evaluate-0"
    assert scores["data"] == {
        "columns": ["model", "rmse"],
        "rows": [["ridge", 4.1], ["tree", None]],
    }
    assert scores["created"].endswith("Z")
    assert scores["created_epoch"] == pytest.approx(made.by_name["scores-2"].created)


def test_ls_limit_says_there_are_more(made: Made, invoke: Invoke) -> None:
    out = invoke("artifacts", "ls", "--limit", "2").output
    assert len(out.splitlines()) == 4
    assert "Showing the newest 2 artifacts; use --limit to see more." in out
    assert "Showing" not in invoke("artifacts", "ls", "--limit", "5").output


def test_show_a_table(made: Made, invoke: Invoke) -> None:
    out = invoke("artifacts", "show", "model-scores").output
    scores = made.by_name["scores-2"]
    assert "model-scores  (version 2 of 2, the current one)" in out
    assert scores.id in out
    assert "Scores of each model" in out
    assert f"{scores.flow_run_id}  (flow train)" in out
    assert f"evaluate-0  {scores.task_run_id}" in out
    table = [line for line in out.splitlines() if "ridge" in line or "tree" in line]
    assert [line.replace("│", " ").split() for line in table] == [["ridge", "4.1"], ["tree"]]


def test_show_markdown_rendered(made: Made, invoke: Invoke) -> None:
    out = invoke("artifacts", "show", "training-report").output
    assert "Training report" in out
    assert "# Training" not in out
    assert "**better**" not in out
    assert "The model got better." in out
    assert "• rmse: 4.1" in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_show_an_older_version(made: Made, invoke: Invoke) -> None:
    out = invoke("artifacts", "show", "model-scores", "--version", "1").output
    assert "version 1 of 2, not the current one" in out
    assert "4.5" in out


def test_show_a_link_by_id_and_an_artifact_made_outside_runs(made: Made, invoke: Invoke) -> None:
    out = invoke("artifacts", "show", made.by_name["link-1"].id).output
    assert "Artifact  (no key)" in out
    assert "dashboard <https://example.org/dashboards/7>" in out
    out = invoke("artifacts", "show", made.outside.id[:20]).output
    assert "none (created outside any flow run or task run)" in out
    assert "made [by hand]" in out


def test_show_json(made: Made, invoke: Invoke) -> None:
    record = json.loads(invoke("artifacts", "show", "training-report", "--json").output)
    assert record["data"] == REPORT
    assert (record["version"], record["versions"]) == (2, 2)
    record = json.loads(invoke("artifacts", "show", made.outside.id, "--json").output)
    assert (record["key"], record["version"], record["versions"]) == (None, None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No artifact has the key 'nope' or an id starting with it."),
        (["model-scores", "--version", "3"], "has 2 versions; give --version between 1 and 2."),
        (["nope", "--version", "1"], "No artifact has the key 'nope'"),
        (["0"], "is the start of several artifact ids"),
        ([" "], "Give an artifact key or id"),
    ],
)
def test_show_errors_are_one_line(
    made: Made, invoke: Invoke, args: list[str], message: str
) -> None:
    result = invoke("artifacts", "show", *args, exit_code=1)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_version_of_an_artifact_without_key(made: Made, invoke: Invoke) -> None:
    result = invoke("artifacts", "show", made.outside.id, "--version", "1", exit_code=1)
    assert "has no key, so it has no versions" in result.stderr


def test_ls_of_an_unknown_run_is_an_error(made: Made, invoke: Invoke) -> None:
    result = invoke("artifacts", "ls", "--flow-run", "zzzz", exit_code=1)
    assert "No flow run or task run has an id starting with 'zzzz'" in result.stderr


def test_without_database(home: Path, invoke: Invoke) -> None:
    assert "No artifacts yet" in invoke("artifacts", "ls").output
    assert json.loads(invoke("artifacts", "ls", "--json").output) == []
    result = invoke("artifacts", "show", "model-scores", exit_code=1)
    assert "there is no cadenza database at" in result.stderr
    assert not (home / "cadenza.db").exists()


def test_nothing_matches(made: Made, invoke: Invoke) -> None:
    out = invoke("artifacts", "ls", "--key", "other").output
    assert "No artifacts match these filters." in out


def test_help_lists_the_commands(invoke: Invoke) -> None:
    out = invoke("--help").output
    assert "  artifacts " in out
    out = invoke("artifacts", "--help").output
    for name in ("ls", "show"):
        assert f"  {name} " in out
