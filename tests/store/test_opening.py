"""Opening a store to read: the schema is checked without taking the write lock."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cadenza.exceptions import StoreError
from cadenza.store.sql import SqlStore
from tests.store import make
from tests.store.make import Clock


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database holding one completed flow run."""
    path = tmp_path / "cadenza.db"
    store = SqlStore(f"sqlite:///{path}")
    store.apply(make.completed(make.flow_run("etl"), Clock()))
    store.close()
    return path


@pytest.fixture
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the database's write lock during the test."""
    con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    yield con
    con.execute("ROLLBACK")
    con.close()


def test_opening_and_reading_do_not_wait_for_another_writer(
    db: Path, write_lock: sqlite3.Connection
) -> None:
    started = time.monotonic()
    store = SqlStore(f"sqlite:///{db}", busy_timeout=1)
    try:
        assert [r.flow_name for r in store.list_flow_runs()] == ["etl"]
        assert store.list_artifacts() == []
    finally:
        store.close()
    assert time.monotonic() - started < 5


def test_writing_waits_for_the_other_writer(db: Path, write_lock: sqlite3.Connection) -> None:
    store = SqlStore(f"sqlite:///{db}")
    try:
        released = threading.Timer(0.3, write_lock.execute, args=("ROLLBACK",))
        released.start()
        started = time.monotonic()
        store.apply(make.completed(make.flow_run("later"), Clock()))
        assert time.monotonic() - started >= 0.2
        write_lock.execute("BEGIN IMMEDIATE")  # for the fixture's rollback
        released.join()
    finally:
        store.close()


def test_a_database_opened_read_only_can_be_read(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqlStore(f"sqlite:///file:{db}?mode=ro&uri=true")
    try:
        assert [r.flow_name for r in store.list_flow_runs()] == ["etl"]
        with pytest.raises(StoreError, match="readonly"):
            store.apply(make.completed(make.flow_run(), Clock()))
    finally:
        store.close()
    assert not (tmp_path / "file:").exists()  # no folder named after the URI


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only files")
def test_a_read_only_database_file_can_be_read(db: Path) -> None:
    db.chmod(0o444)
    try:
        store = SqlStore(f"sqlite:///{db}")
        try:
            assert [r.flow_name for r in store.list_flow_runs()] == ["etl"]
        finally:
            store.close()
    finally:
        db.chmod(0o644)
