"""``cadenza flows ls``, ``cadenza db`` and ``cadenza version``."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
import sqlalchemy

from cadenza import __version__
from cadenza.reporting import reset_reporter
from cadenza.store.schema import SCHEMA_VERSION
from tests.cli.conftest import Invoke, Recorded, pipeline


def test_flows_ls(recorded: Recorded, invoke: Invoke) -> None:
    lines = invoke("flows", "ls").output.splitlines()
    assert lines[0].split() == ["FLOW", "RUNS", "LAST", "RUN", "LAST", "STATE"]
    rows = [line.split() for line in lines[1:]]
    assert [(r[0], r[1], r[-1]) for r in rows] == [
        ("child", "1", "Completed"),
        ("failing", "1", "Failed"),
        ("pipeline", "1", "Completed"),
    ]


def test_flows_ls_json(recorded: Recorded, invoke: Invoke) -> None:
    pipeline()
    reset_reporter()
    data = {f["name"]: f for f in json.loads(invoke("flows", "ls", "--json").output)}
    assert set(data) == {"child", "failing", "pipeline"}
    assert data["pipeline"]["run_count"] == 2
    assert data["child"]["run_count"] == 2
    assert data["failing"]["last_state"] == {"type": "FAILED", "name": "Failed"}
    assert data["failing"]["last_run_epoch"] == recorded.failing.created
    assert data["failing"]["last_run"].endswith("Z")


def test_flows_ls_without_database(home: Path, invoke: Invoke) -> None:
    assert "No flows yet" in invoke("flows", "ls").output
    assert json.loads(invoke("flows", "ls", "--json").output) == []


def test_db_current_without_database(home: Path, invoke: Invoke) -> None:
    out = invoke("db", "current").output
    assert f"Database:         {home / 'cadenza.db'}" in out
    assert "does not exist yet" in out
    assert not (home / "cadenza.db").exists()


def test_db_upgrade_creates_then_keeps_the_schema(home: Path, invoke: Invoke) -> None:
    first = invoke("db", "upgrade").output
    assert f"Created the schema at revision {SCHEMA_VERSION}." in first
    assert f"{SCHEMA_VERSION} (up to date)" in invoke("db", "current").output
    again = json.loads(invoke("db", "upgrade", "--json").output)
    assert again == {
        "database_url": str(home / "cadenza.db"),
        "before": SCHEMA_VERSION,
        "after": SCHEMA_VERSION,
        "changed": False,
    }
    pipeline()  # the migrated database is one the store uses
    reset_reporter()
    assert [r["flow_name"] for r in json.loads(invoke("runs", "ls", "--json").output)] == [
        "child",
        "pipeline",
    ]


def test_db_upgrade_of_an_empty_file(home: Path, invoke: Invoke) -> None:
    home.mkdir()
    (home / "cadenza.db").touch()
    assert "none: no cadenza schema" in invoke("db", "current").output
    data = json.loads(invoke("db", "upgrade", "--json").output)
    assert (data["before"], data["after"], data["changed"]) == (None, SCHEMA_VERSION, True)


def _set_revision(home: Path, revision: str) -> None:
    with sqlite3.connect(home / "cadenza.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    conn.close()


def test_unknown_revision(recorded: Recorded, home: Path, invoke: Invoke) -> None:
    _set_revision(home, "0999")
    current = json.loads(invoke("db", "current", "--json").output)
    assert (current["revision"], current["up_to_date"]) == ("0999", False)
    assert "0999: unknown to this version of cadenza" in invoke("db", "current").output
    listing = invoke("runs", "ls", exit_code=1)
    assert "has schema version '0999', which this version of cadenza does not know" in (
        listing.stderr
    )
    assert "Traceback" not in listing.output
    upgrade = invoke("db", "upgrade", exit_code=1)
    assert upgrade.stderr.startswith("Error: The database at ")
    assert "Upgrade cadenza." in upgrade.stderr


def test_db_current_of_a_corrupt_file(home: Path, invoke: Invoke) -> None:
    home.mkdir()
    (home / "cadenza.db").write_bytes(b"garbage" * 1000)
    result = invoke("db", "current", exit_code=1)
    assert "is not a readable cadenza database" in result.stderr


def test_version(recorded: Recorded, home: Path, invoke: Invoke) -> None:
    out = invoke("version").output
    assert f"cadenza:    {__version__}" in out
    assert f"Python:     {sys.version_info.major}.{sys.version_info.minor}." in out
    assert f"SQLAlchemy: {sqlalchemy.__version__}" in out
    assert f"Database:   {home / 'cadenza.db'}" in out
    assert f"Schema:     {SCHEMA_VERSION} (up to date)" in out


def test_version_json(home: Path, invoke: Invoke) -> None:
    data = json.loads(invoke("version", "--json").output)
    assert data["cadenza_version"] == __version__
    assert data["sqlalchemy_version"] == sqlalchemy.__version__
    assert data["database_url"] == str(home / "cadenza.db")
    assert (data["database_exists"], data["schema_revision"]) == (False, None)
    assert data["schema_expected_revision"] == SCHEMA_VERSION


def test_version_hides_passwords(
    home: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CADENZA_DATABASE_URL", "postgresql+psycopg://user:secret@127.0.0.1:1/cadenza"
    )
    out = invoke("version").output
    assert "secret" not in out
    assert "postgresql+psycopg://user:***@127.0.0.1:1/cadenza" in out


def test_db_current_json_of_a_corrupt_file(home: Path, invoke: Invoke) -> None:
    home.mkdir()
    (home / "cadenza.db").write_bytes(b"garbage" * 1000)
    result = invoke("db", "current", "--json", exit_code=1)
    status = json.loads(result.stdout)
    assert status["exists"] is True
    assert "is not a readable cadenza database" in status["error"]
    assert "Schema:     unknown (" in invoke("version").output


def test_db_upgrade_from_an_older_revision(home: Path, invoke: Invoke) -> None:
    from cadenza.store.migrate import known_revisions, upgrade

    revisions = known_revisions()
    if len(revisions) < 2:
        pytest.skip("this version of cadenza has a single schema revision")
    home.mkdir()
    upgrade(f"sqlite:///{home / 'cadenza.db'}", revisions[0])
    older = f"{revisions[0]}: older than {SCHEMA_VERSION}; run `cadenza db upgrade`"
    assert older in invoke("db", "current").output
    listing = invoke("runs", "ls", exit_code=1)
    assert "Run `cadenza db upgrade`" in listing.stderr
    out = invoke("db", "upgrade").output
    assert f"Upgraded the schema from revision {revisions[0]} to {SCHEMA_VERSION}." in out
    assert json.loads(invoke("runs", "ls", "--json").output) == []
