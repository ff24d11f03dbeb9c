"""Several processes writing to one database at once (a SQLite file, or PostgreSQL): no
"database is locked", nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cadenza.store.schema import SCHEMA_VERSION
from tests.store import raw
from tests.store.backends import BACKENDS, Backend

WORKER = """
import sys

import cadenza.store.sql  # imported before the start, so that the work starts at once
from cadenza import flow, get_run_logger, task

worker, n_flows, n_tasks = (int(a) for a in sys.argv[1:4])


@task
def step(i: int) -> int:
    if i % 10 == 0:
        get_run_logger().info("worker %d at step %d", worker, i)
    return i


@flow
def sequential(n: int) -> int:
    return sum(step(i) for i in range(n))


@flow
def parallel(n: int) -> int:
    return sum(step.map(range(n)).result())


print("ready", flush=True)
sys.stdin.readline()
for k in range(n_flows):
    pipeline = parallel if k % 2 else sequential
    assert pipeline(n_tasks) == n_tasks * (n_tasks - 1) // 2
print("done", worker)
"""


def run_workers(
    home: Path,
    script: Path,
    n: int,
    n_flows: int,
    n_tasks: int,
    timeout: float,
    url: str | None = None,
) -> list[tuple[int, str, str]]:
    """Start ``n`` worker processes, let them all begin at once, wait for them. They
    record into ``home``'s SQLite file, or into the database of ``url`` when given."""
    script.write_text(WORKER)
    env = {**os.environ, "CADENZA_HOME": str(home)}
    if url is not None:
        env["CADENZA_DATABASE_URL"] = url
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(w), str(n_flows), str(n_tasks)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(n)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline() == "ready\n"
        for p in procs:  # go
            assert p.stdin is not None
            p.stdin.write("\n")
            p.stdin.flush()
        deadline = time.monotonic() + timeout
        out = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=max(deadline - time.monotonic(), 1))
            out.append((p.returncode, stdout, stderr))
        return out
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    with raw.connection(url) as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def database(backend: Backend, request: pytest.FixtureRequest, home: Path) -> str | None:
    """The URL the workers are given (none: the SQLite file of their home)."""
    return None if backend.name == "sqlite" else backend.fresh_url(request)


def url_of(url: str | None, home: Path) -> str:
    return url or f"sqlite:///{home / 'cadenza.db'}"


def assert_clean(results: list[tuple[int, str, str]]) -> None:
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert stdout.startswith("done"), stderr
        assert "locked" not in stderr, stderr
        assert "Could not record" not in stderr, stderr
        assert "could not be recorded" not in stderr, stderr


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS, ids=str)
def test_processes_writing_at_once_record_every_run(
    cadenza_home: Path, tmp_path: Path, backend: Backend, request: pytest.FixtureRequest
) -> None:
    n_procs, n_flows, n_tasks = 4, 20, 50
    url = database(backend, request, cadenza_home)
    script = tmp_path / "worker.py"
    assert_clean(run_workers(cadenza_home, script, n_procs, n_flows, n_tasks, 90, url))
    db = url_of(url, cadenza_home)
    assert query(db, "SELECT state_type, count(*) FROM flow_runs GROUP BY state_type") == [
        ("COMPLETED", n_procs * n_flows)
    ]
    assert query(db, "SELECT state_type, count(*) FROM task_runs GROUP BY state_type") == [
        ("COMPLETED", n_procs * n_flows * n_tasks)
    ]
    per_flow = query(
        db,
        f"SELECT count(*) FROM task_runs GROUP BY flow_run_id HAVING count(*) != {n_tasks}",
    )
    assert per_flow == []
    assert query(db, "SELECT count(*) FROM flow_runs WHERE end_time IS NULL") == [(0,)]
    assert query(db, "SELECT count(*) FROM task_runs WHERE end_time IS NULL") == [(0,)]
    assert query(db, "SELECT count(DISTINCT pid) FROM flow_runs") == [(n_procs,)]
    assert query(db, "SELECT count(*) FROM logs WHERE message LIKE 'worker % at step %'") == [
        (n_procs * n_flows * n_tasks // 10,)
    ]


@pytest.mark.parametrize("attempt", range(2))
@pytest.mark.parametrize("backend", BACKENDS, ids=str)
def test_processes_opening_a_fresh_database_at_once_all_succeed(
    tmp_path: Path, attempt: int, backend: Backend, request: pytest.FixtureRequest
) -> None:
    """The first use creates the schema; several first uses at once must not collide."""
    home = tmp_path / f"fresh-{attempt}"
    url = database(backend, request, home)
    assert_clean(run_workers(home, tmp_path / "worker.py", 4, 1, 3, 60, url))
    db = url_of(url, home)
    assert query(db, "SELECT count(*) FROM flow_runs") == [(4,)]
    assert query(db, "SELECT count(*) FROM flows") == [(1,)]
    assert query(db, "SELECT version_num FROM alembic_version") == [(SCHEMA_VERSION,)]
