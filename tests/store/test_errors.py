"""Bad database files and folders, and a full disk: clear errors, nothing lost."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cadenza import flow, get_run_logger, task
from cadenza.exceptions import StoreCorruptError, StoreError, StoreFullError
from cadenza.reporting import get_reporter
from cadenza.reporting.embedded import EmbeddedReporter
from cadenza.store import get_store
from cadenza.store.sql import SqlStore
from tests.store import make
from tests.store.make import Clock


def counting_flow() -> tuple[Callable[[], int], list[str]]:
    calls: list[str] = []

    @task
    def step() -> int:
        calls.append("task")
        return 1

    @flow
    def pipeline() -> int:
        calls.append("flow")
        return step()

    return pipeline, calls


def rows(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


# -- corrupt files ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "garbage",
    [
        os.urandom(4096),
        b"not a database\n" * 300,
        b"\x00" * 8192,
        b"SQLite format 3\x00" + b"x" * 200,
    ],
    ids=["random", "text", "zeros", "bad-header"],
)
def test_a_corrupt_database_fails_the_flow_call_before_it_runs(
    cadenza_home: Path, garbage: bytes
) -> None:
    cadenza_home.mkdir()
    db = cadenza_home / "cadenza.db"
    db.write_bytes(garbage)
    pipeline, calls = counting_flow()
    with pytest.raises(StoreCorruptError) as info:
        pipeline()
    assert calls == []
    message = str(info.value)
    assert str(db) in message
    assert "Move it aside" in message
    assert "CADENZA_HOME" in message
    assert db.read_bytes() == garbage  # left as it was, for recovery

    # Doing what the message says works.
    db.rename(cadenza_home / "cadenza.db.broken")
    assert pipeline() == 1
    assert calls == ["flow", "task"]
    assert rows(db, "flow_runs") == 1


def test_a_damaged_database_fails_a_task_call_before_it_runs(cadenza_home: Path) -> None:
    """A real database whose pages were overwritten after its header."""
    db = cadenza_home / "cadenza.db"
    SqlStore(f"sqlite:///{db}").close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.seek(1024)
        f.write(os.urandom(size - 1024))
    calls: list[int] = []

    @task
    def step() -> None:
        calls.append(1)

    with pytest.raises(StoreCorruptError, match="not a readable cadenza database"):
        step()
    assert calls == []


# -- folders that cannot be used ------------------------------------------------------------------
def test_a_home_that_cannot_be_created_fails_the_flow_call_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    home = blocker / "home"
    monkeypatch.setenv("CADENZA_HOME", str(home))
    from cadenza.settings import reset_settings

    reset_settings()
    pipeline, calls = counting_flow()
    with pytest.raises(StoreError) as info:
        pipeline()
    assert calls == []
    message = str(info.value)
    assert f"Could not create the folder {home}" in message
    assert "CADENZA_HOME" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_home_that_cannot_be_written_fails_the_flow_call_clearly(cadenza_home: Path) -> None:
    cadenza_home.mkdir()
    cadenza_home.chmod(0o500)
    try:
        pipeline, calls = counting_flow()
        with pytest.raises(StoreError, match="writable") as info:
            pipeline()
        assert calls == []
        assert str(cadenza_home) in str(info.value)
    finally:
        cadenza_home.chmod(0o700)


def test_a_database_path_that_cannot_be_a_file_fails_the_flow_call_clearly(
    cadenza_home: Path,
) -> None:
    (cadenza_home / "cadenza.db").mkdir(parents=True)  # a folder where the file should be
    pipeline, calls = counting_flow()
    with pytest.raises(StoreError) as info:
        pipeline()
    assert calls == []
    message = str(info.value)
    assert f"Could not open the cadenza database at {cadenza_home / 'cadenza.db'}" in message
    assert "writable" in message
    assert "CADENZA_HOME" in message


# -- a full disk --------------------------------------------------------------------------------
class Disk:
    """Makes a store's database unable to grow, as on a full disk.

    SQLite's ``max_page_count`` is set on every connection the store takes from its
    pool: while the disk is "full" it is the database's current size, so any write
    that needs a new page fails with SQLITE_FULL ("database or disk is full").
    """

    def __init__(self, store: SqlStore) -> None:
        self.full = False
        sa.event.listen(store.engine, "checkout", self._on_checkout)

    def _on_checkout(self, dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        cur = dbapi_conn.cursor()
        # A maximum below the current size leaves the size as the maximum.
        cur.execute(f"PRAGMA max_page_count = {1 if self.full else 1_073_741_823}")
        cur.close()


def test_apply_on_a_full_disk_raises_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    store = SqlStore(f"sqlite:///{db}")
    disk = Disk(store)
    clock = Clock()
    run = make.flow_run()
    store.apply(make.completed(run, clock))
    disk.full = True
    batch = make.completed(make.flow_run(), clock)
    for i in range(300):
        tr = make.task_run(run, name=f"t-{i}", created=clock())
        batch += make.completed(tr, clock)
        batch.append(make.log(tr, "x" * 200, timestamp=clock()))
    with pytest.raises(StoreFullError) as info:
        store.apply(batch)
    assert str(db) in str(info.value)
    assert "disk is full" in str(info.value)
    assert "Free some space" in str(info.value)
    assert (rows(db, "flow_runs"), rows(db, "task_runs"), rows(db, "logs")) == (1, 0, 0)
    disk.full = False
    store.apply(batch)
    assert (rows(db, "flow_runs"), rows(db, "task_runs"), rows(db, "logs")) == (2, 300, 300)
    store.close()


def test_runs_on_a_full_disk_are_kept_and_written_once_when_space_returns(
    cadenza_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    n_tasks = 40

    @task
    def step(i: int) -> int:
        get_run_logger().info("step %d says %s", i, "x" * 200)
        return i

    @flow
    def pipeline() -> int:
        return sum(step(i) for i in range(n_tasks))

    store = get_store()
    assert isinstance(store, SqlStore)
    disk = Disk(store)
    reporter = get_reporter()
    assert isinstance(reporter, EmbeddedReporter)
    db = cadenza_home / "cadenza.db"

    disk.full = True
    writer_log = logging.getLogger("cadenza.reporting")
    writer_log.addHandler(caplog.handler)
    try:
        # The store's failure does not fail the runs: they finish, their records wait.
        assert pipeline() == sum(range(n_tasks))
        assert pipeline() == sum(range(n_tasks))
    finally:
        writer_log.removeHandler(caplog.handler)
    assert any(
        r.levelno == logging.ERROR and "disk is full" in r.getMessage() for r in caplog.records
    )
    assert reporter.pending > 0
    assert not reporter.flush(timeout=5)
    assert rows(db, "task_runs") == 0

    disk.full = False
    assert reporter.flush(timeout=30)
    assert reporter.pending == 0
    assert rows(db, "flow_runs") == 2
    assert rows(db, "task_runs") == 2 * n_tasks
    con = sqlite3.connect(db)
    states = con.execute("SELECT state_name, count(*) FROM flow_runs GROUP BY 1").fetchall()
    task_states = con.execute("SELECT state_name, count(*) FROM task_runs GROUP BY 1").fetchall()
    step_lines = con.execute(
        "SELECT count(*), count(DISTINCT task_run_id) FROM logs WHERE message LIKE 'step %'"
    ).fetchone()
    con.close()
    assert states == [("Completed", 2)]
    assert task_states == [("Completed", 2 * n_tasks)]
    assert step_lines == (2 * n_tasks, 2 * n_tasks)
