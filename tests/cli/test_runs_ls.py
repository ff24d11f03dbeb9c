"""``cadenza runs ls``."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from cadenza.cli.main import cli
from cadenza.settings import reset_settings
from tests.cli.conftest import Invoke, Recorded


def test_lists_runs_newest_first(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "ls").output
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "FLOW", "NAME", "STATE", "START", "DURATION", "TAGS"]
    names = [line.split()[2] for line in lines[1:]]
    assert names == [recorded.failing.name, recorded.child.name, recorded.pipeline.name]
    assert "Failed" in lines[1]
    assert "nightly" in lines[3]
    assert "\x1b[" not in out  # no colors off a terminal


def test_short_ids_name_one_run(recorded: Recorded, invoke: Invoke) -> None:
    lines = invoke("runs", "ls").output.splitlines()[1:]
    for line in lines:
        short = line.split()[0]
        assert len(short) >= 8
        shown = invoke("runs", "show", short).output
        assert line.split()[2] in shown.splitlines()[0]


def test_json_has_stable_keys_and_both_timestamps(recorded: Recorded, invoke: Invoke) -> None:
    rows = json.loads(invoke("runs", "ls", "--json").output)
    assert [r["id"] for r in rows] == [recorded.failing.id, recorded.child.id, recorded.pipeline.id]
    failing = rows[0]
    assert failing["flow_name"] == "failing"
    assert failing["state"]["type"] == "FAILED"
    assert failing["state"]["message"] == "ValueError: cannot use 3"
    assert failing["created"].endswith("Z")
    assert failing["created_epoch"] == pytest.approx(recorded.failing.created)
    assert failing["duration_seconds"] >= 0
    assert failing["entrypoint"].endswith(":failing")
    child = rows[1]
    assert child["parent_flow_run_id"] == recorded.pipeline.id
    assert child["parameters"] == {"k": 5}
    assert child["tags"] == ["nightly"]
    assert set(rows[0]) == set(rows[2])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--flow", "pipeline"], ["pipeline"]),
        (["--flow", "nope"], []),
        (["--state", "failed"], ["failing"]),
        (["--state", "COMPLETED"], ["child", "pipeline"]),
        (["--state", "completed", "--state", "failed"], ["failing", "child", "pipeline"]),
        (["--state", "completed,failed", "--flow", "child"], ["child"]),
        (["--state", "cached"], []),
        (["--state", "failed", "--state", "cached"], ["failing"]),
        (["--tag", "nightly"], ["child", "pipeline"]),
        (["--since", "1h"], ["failing", "child", "pipeline"]),
        (["--since", "2999-01-31"], []),
        (["--limit", "1"], ["failing"]),
    ],
)
def test_filters(recorded: Recorded, invoke: Invoke, args: list[str], expected: list[str]) -> None:
    rows = json.loads(invoke("runs", "ls", "--json", *args).output)
    assert [r["flow_name"] for r in rows] == expected


def test_limit_says_how_many_more(recorded: Recorded, invoke: Invoke) -> None:
    out = invoke("runs", "ls", "--limit", "2").output
    assert "Showing 2 of 3 runs; use --limit to see more." in out


def test_states_by_type_and_by_name_are_one_query_with_a_total(
    recorded: Recorded, invoke: Invoke
) -> None:
    out = invoke("runs", "ls", "--state", "completed", "--state", "cached", "--limit", "1").output
    assert recorded.child.name in out
    assert "Showing 1 of 2 runs; use --limit to see more." in out


def test_lists_while_another_process_holds_the_write_lock(
    recorded: Recorded, home: Path, invoke: Invoke
) -> None:
    con = sqlite3.connect(home / "cadenza.db", isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        rows = json.loads(invoke("runs", "ls", "--json").output)
        assert time.monotonic() - started < 5
        assert len(rows) == 3
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_lists_from_a_database_opened_read_only(
    recorded: Recorded, home: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CADENZA_DATABASE_URL", f"sqlite:///file:{home / 'cadenza.db'}?mode=ro&uri=true"
    )
    reset_settings()
    rows = json.loads(invoke("runs", "ls", "--json").output)
    assert [r["id"] for r in rows] == [recorded.failing.id, recorded.child.id, recorded.pipeline.id]


def test_nothing_matches(recorded: Recorded, invoke: Invoke) -> None:
    assert "No flow runs match these filters." in invoke("runs", "ls", "--flow", "x").output


def test_bad_since_is_one_clear_error(recorded: Recorded, invoke: Invoke) -> None:
    result = invoke("runs", "ls", "--since", "yesterday", exit_code=1)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: --since 'yesterday' is neither a span nor a date.")
    assert "Traceback" not in result.output


def test_unknown_state_lists_the_states(recorded: Recorded, invoke: Invoke) -> None:
    result = invoke("runs", "ls", "--state", "exploded", exit_code=1)
    assert "--state 'exploded' is not a state; use one of scheduled, pending" in result.stderr


def test_without_database_lists_nothing_and_creates_nothing(home: Path, invoke: Invoke) -> None:
    assert "No flow runs yet" in invoke("runs", "ls").output
    assert json.loads(invoke("runs", "ls", "--json").output) == []
    assert not (home / "cadenza.db").exists()


def test_store_errors_are_one_line(home: Path, invoke: Invoke) -> None:
    home.mkdir()
    (home / "cadenza.db").write_bytes(b"this is not a database" * 100)
    result = invoke("runs", "ls", exit_code=1)
    assert result.stderr.startswith("Error: The file ")
    assert "is not a readable cadenza database" in result.stderr
    assert "Traceback" not in result.output


def test_bad_setting_is_one_line(
    home: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CADENZA_FLUSH_INTERVAL", "often")
    result = invoke("runs", "ls", exit_code=1)
    assert "CADENZA_FLUSH_INTERVAL='often' is not a number" in result.stderr


def test_server_url_is_refused(home: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADENZA_API_URL", "http://127.0.0.1:4200")
    result = invoke("runs", "ls", exit_code=1)
    assert "Unset CADENZA_API_URL" in result.stderr


def test_help_lists_the_commands() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["runs", "--help"]).output
    for name in ("ls", "show", "logs"):
        assert f"  {name} " in out
