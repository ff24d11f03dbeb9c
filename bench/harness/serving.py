"""The runs list and the run page: how long servers take to answer them, on big stores.

cadenza serves a seeded store of ``ServerPlan.store`` (100,000 flow runs and 1,000,000
task runs in a full run, kept under bench/out/ by ``bench/seed.py``); plain Python
runs the same queries with sqlite3 on the same file. Prefect cannot be seeded at that
size in reasonable time: its database is filled with the runs of a smaller seeded
store (``ServerPlan.compare_store``) by ``workloads/prefect_seed.py`` (kept too), and
cadenza and plain Python are timed on that smaller store as well, so that its rows
compare like with like. Each server runs in a process of its own; the requests come
from another (``workloads/queries.py``). The figures are percentiles of the server's
own time (its ``Server-Timing`` header): the p99 at the big size, which the targets
are about, the p50 at the smaller one; the other percentile and the client's time are
in the notes.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import seed

from harness import targets
from harness.environments import OUT_DIR, WORKLOADS_DIR
from harness.plan import ServerPlan
from harness.rows import Row
from harness.servers import ServerProcess, cadenza_server, prefect_server
from harness.session import Session

FLOW_COLUMNS = (
    "id, flow_id, name, parameters, tags, parent_flow_run_id, parent_task_run_id, created,"
    " state_type, state_name, state_message, state_timestamp, run_count, start_time, end_time"
)
TASK_COLUMNS = (
    "id, flow_run_id, name, task_key, dynamic_key, kind, subflow_run_id, created, state_type,"
    " state_name, state_message, state_timestamp, run_count, start_time, end_time"
)
LOG_COLUMNS = "id, flow_run_id, task_run_id, level, name, message, timestamp"
WORKLOADS = ("runs_list", "run_page")


@dataclass(frozen=True)
class Case:
    """One request timed: its row in the table, and how each framework makes it.

    ``http`` gives cadenza's request (method, path, query parameters); ``prefect``
    Prefect's (method, path, JSON body), if it has one; ``sql`` the statements of
    plain Python. ``{run}`` in any of them stands for the big run's id, ``{cursor}``
    for the id of the flow run halfway down the list.
    """

    key: str
    workload: str
    label: str
    http: tuple[str, str, dict[str, Any] | None]
    sql: tuple[str, ...]
    prefect: tuple[str, str, dict[str, Any] | None] | None = None


def _runs(where: str = "", limit: int = 51) -> str:
    return f"SELECT {FLOW_COLUMNS} FROM flow_runs {where} ORDER BY id DESC LIMIT {limit}"


_DETAIL = (
    "SELECT * FROM flow_runs WHERE id = {run}",
    "SELECT state_type, count(*) FROM task_runs WHERE flow_run_id = {run} GROUP BY state_type",
)
_FLOWS = "SELECT name FROM flows ORDER BY name"  # the flow filter's choices


def _tasks(limit: int) -> str:
    return (
        f"SELECT {TASK_COLUMNS} FROM task_runs WHERE flow_run_id = {{run}} ORDER BY id"
        f" LIMIT {limit}"
    )


def _logs(limit: int) -> str:
    return f"SELECT {LOG_COLUMNS} FROM logs WHERE flow_run_id = {{run}} ORDER BY id LIMIT {limit}"


BIG_CASES = (
    Case(
        "runs_newest",
        "runs_list",
        "runs list: GET /api/flow_runs, newest 50",
        ("GET", "/api/flow_runs", None),
        (_runs(),),
    ),
    Case(
        "runs_failed",
        "runs_list",
        "runs list: GET /api/flow_runs?state=FAILED",
        ("GET", "/api/flow_runs", {"state": "FAILED"}),
        (_runs("WHERE state_type = 'FAILED'"),),
    ),
    Case(
        "runs_tag",
        "runs_list",
        "runs list: GET /api/flow_runs?tag=gpu",
        ("GET", "/api/flow_runs", {"tag": "gpu"}),
        (
            f"SELECT {', '.join('f.' + c.strip() for c in FLOW_COLUMNS.split(','))}"
            " FROM flow_run_tags t JOIN flow_runs f ON f.id = t.flow_run_id"
            " WHERE t.tag = 'gpu' ORDER BY t.flow_run_id DESC LIMIT 51",
        ),
    ),
    Case(
        "runs_deep",
        "runs_list",
        "runs list: GET /api/flow_runs?cursor=..., halfway down",
        ("GET", "/api/flow_runs", {"cursor": "{cursor}"}),
        (_runs("WHERE id < {cursor}"),),
    ),
    Case(
        "html_runs",
        "runs_list",
        "runs list: the HTML page /runs",
        ("GET", "/runs", None),
        (_runs(), _FLOWS),
    ),
    Case(
        "run_detail",
        "run_page",
        "run page: GET /api/flow_runs/{id}",
        ("GET", "/api/flow_runs/{run}", None),
        _DETAIL,
    ),
    Case(
        "run_tasks",
        "run_page",
        "run page: GET /api/flow_runs/{id}/task_runs, first 200",
        ("GET", "/api/flow_runs/{run}/task_runs", None),
        (_tasks(201),),
    ),
    Case(
        "run_logs",
        "run_page",
        "run page: GET /api/flow_runs/{id}/logs, first 500 lines",
        ("GET", "/api/flow_runs/{run}/logs", None),
        (_logs(501),),
    ),
    Case(
        "html_run",
        "run_page",
        "run page: the HTML page /runs/{id}",
        ("GET", "/runs/{run}", None),
        (
            *_DETAIL,
            _tasks(101),
            _runs("WHERE parent_flow_run_id = {run}", 100),
            _logs(1001),
            "SELECT * FROM artifacts WHERE flow_run_id = {run} ORDER BY id DESC LIMIT 50",
        ),
    ),
)

COMPARE_CASES = (
    Case(
        "cmp_runs",
        "runs_list",
        "runs list, newest 50: GET /api/flow_runs | POST /api/flow_runs/filter",
        ("GET", "/api/flow_runs", {"limit": 50}),
        (_runs(),),
        ("POST", "/api/flow_runs/filter", {"limit": 50}),
    ),
    Case(
        "cmp_detail",
        "run_page",
        "run page, the run: GET /api/flow_runs/{id}",
        ("GET", "/api/flow_runs/{run}", None),
        _DETAIL,
        ("GET", "/api/flow_runs/{run}", None),
    ),
    Case(
        "cmp_tasks",
        "run_page",
        "run page, its first 200 task runs: GET …/task_runs | POST /api/task_runs/filter",
        ("GET", "/api/flow_runs/{run}/task_runs", {"limit": 200}),
        (_tasks(201),),
        (
            "POST",
            "/api/task_runs/filter",
            {"task_runs": {"flow_run_id": {"any_": ["{run}"]}}, "limit": 200},
        ),
    ),
    Case(
        "cmp_logs",
        "run_page",
        "run page, its first 200 log lines: GET …/logs | POST /api/logs/filter",
        ("GET", "/api/flow_runs/{run}/logs", {"limit": 200}),
        (_logs(201),),
        (
            "POST",
            "/api/logs/filter",
            {"logs": {"flow_run_id": {"any_": ["{run}"]}}, "limit": 200, "sort": "TIMESTAMP_ASC"},
        ),
    ),
)


def _fill(value: Any, names: dict[str, str]) -> Any:
    """``value`` with ``{run}`` and ``{cursor}`` replaced, in strings at any depth."""
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, names) for v in value]
    return value


def _request(
    key: str, request: tuple[str, str, dict[str, Any] | None], names: dict[str, str]
) -> dict[str, Any]:
    """cadenza's or Prefect's request, ids filled in."""
    method, path, data = request
    case: dict[str, Any] = {"key": key, "method": method, "path": _fill(path, names)}
    case["json" if method == "POST" else "params"] = _fill(data, names)
    return case


_NAME = re.compile(r"\{(run|cursor)\}")


def _statements(key: str, sql: tuple[str, ...], names: dict[str, str]) -> dict[str, Any]:
    """Plain Python's statements, the ids as parameters."""
    statements = [
        [_NAME.sub("?", text), [names[name] for name in _NAME.findall(text)]] for text in sql
    ]
    return {"key": key, "sql": statements}


def _names(seeded: seed.SeededFile) -> dict[str, str]:
    """The big run's id and the cursor halfway down the runs list."""
    with closing(sqlite3.connect(f"file:{seeded.path}?mode=ro", uri=True)) as db:
        (cursor,) = db.execute(
            "SELECT id FROM flow_runs ORDER BY id DESC LIMIT 1 OFFSET ?",
            (seeded.info.flow_runs // 2,),
        ).fetchone()
    assert seeded.info.big_run_id is not None
    return {"run": seeded.info.big_run_id, "cursor": cursor}


@dataclass
class Timed:
    """What one query process measured, by case key."""

    figures: dict[str, dict[str, Any]]
    failed: str | None = None


def _time(
    session: Session,
    case: str,
    framework: str,
    cases: list[dict[str, Any]],
    env: dict[str, str],
) -> Timed:
    plan = session.plan.server
    cases_path = session.scratch / f"{case}-{framework}-cases.json"
    cases_path.write_text(json.dumps(cases))
    env = {**env, "BENCH_CASES": str(cases_path), "BENCH_WARMUP": str(plan.warmup)}
    run = session.run(case, "queries", framework, plan.requests, env=env)
    if not run.ok:
        return Timed({}, f"failed: bench/out/logs/{run.log_name}")
    return Timed(run.figures["cases"])


def _timed_by(
    session: Session,
    case: str,
    framework: str,
    chosen: list[Case],
    seeded: seed.SeededFile,
    server: Callable[[], ServerProcess] | None,
) -> Timed:
    """Time ``chosen`` for ``framework`` on ``seeded`` (plain: sqlite3; others: ``server()``)."""
    names = _names(seeded)
    if server is None:
        cases = [_statements(c.key, c.sql, names) for c in chosen]
        return _time(session, case, framework, cases, {"BENCH_DATABASE": str(seeded.path)})
    requests = [
        _request(c.key, c.prefect if framework == "prefect" and c.prefect else c.http, names)
        for c in chosen
    ]
    try:
        with server() as running:
            return _time(session, case, framework, requests, {"BENCH_SERVER_URL": running.url})
    except RuntimeError as exc:
        session.say(str(exc))
        return Timed({}, "server did not start")


def prefect_database(session: Session, seeded: seed.SeededFile) -> Path:
    """Prefect's database holding the runs of ``seeded``, made once and kept in bench/out/."""
    framework = session.frameworks["prefect"]
    script = WORKLOADS_DIR / "prefect_seed.py"
    log = session.logs / f"prefect-seed-{seeded.path.stem}.log"

    def make(partial: Path) -> dict[str, Any]:
        session.say(f"Filling a Prefect database with the runs of {seeded.path.name} ...")
        home = session.new_home("prefect-seed")
        home.mkdir(parents=True)
        with log.open("w") as out:
            done = subprocess.run(
                [str(framework.python), str(script), str(seeded.path), str(partial)],
                env=framework.environment(home),
                stdout=subprocess.PIPE,
                stderr=out,
                text=True,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)
        if done.returncode != 0:
            raise RuntimeError(f"filling Prefect's database failed; see bench/out/logs/{log.name}")
        info: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        session.say(f"Done in {info['migrate_seconds'] + info['insert_seconds']:.0f} s.")
        return info

    def whole(path: Path, info: dict[str, Any]) -> bool:
        counts = seed.count_rows(path, ("flow_run", "task_run"))
        return counts == {"flow_run": info["flow_runs"], "task_run": info["task_runs"]}

    fingerprint = {
        "cadenza_store": seeded.fingerprint,
        "script": seed.file_digest(script),
        "prefect": framework.version,
    }
    path = OUT_DIR / f"prefect-{seeded.path.name}"
    seed.kept_file(path, fingerprint, make, whole=whole)
    return path


def _percentiles_row(
    case: Case,
    size: str,
    timed: dict[str, Timed],
    percentile: str,
    target: targets.Target | None = None,
) -> Row:
    """The ``percentile`` (p50 or p99) of the servers' times; the other and the client's in notes."""
    other = "p50" if percentile == "p99" else "p99"
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for name, result in timed.items():
        figures = result.figures.get(case.key)
        if figures is None:
            values[name] = None
            notes[name] = result.failed or "not measured"
            continue
        values[name] = figures[f"server_{percentile}_ms"]
        note = f"{other} {figures[f'server_{other}_ms']:.1f}"
        if name != "plain":
            note += f"; client {percentile} {figures[f'client_{percentile}_ms']:.1f}"
        notes[name] = note
    label = f"{case.label} ({size}): {percentile} server time"
    return Row(f"{case.key}_{percentile}_ms", label, "ms", values, notes, target)


def _size(store: tuple[int, int, int]) -> str:
    def short(n: int) -> str:
        return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k"

    return f"{short(store[0])}/{short(store[1])} runs"


def queries(session: Session, workloads: list[str]) -> list[Row]:
    """Rows of the runs list and the run page, for the ``workloads`` among them chosen."""
    plan = session.plan.server
    big_cases = [c for c in BIG_CASES if c.workload in workloads]
    compare = [c for c in COMPARE_CASES if c.workload in workloads]
    say = session.say
    big = seed.seeded_database(seed.SeedSpec(*plan.store), say=say)
    small = seed.seeded_database(seed.SeedSpec(*plan.compare_store), say=say)
    cadenza = session.frameworks["cadenza"]

    def cadenza_on(seeded: seed.SeededFile, case: str) -> Callable[[], ServerProcess]:
        home = session.new_home("cadenza-server")
        log = session.server_log(case, "cadenza")
        return lambda: cadenza_server(cadenza, seeded.url, home, log)

    on_big: dict[str, Timed] = {}
    on_small: dict[str, Timed] = {}
    for name in session.framework_names:
        if name == "prefect":
            on_big[name] = Timed({}, f"see {_size(plan.compare_store)}")
            on_small[name] = _prefect(session, small, compare)
            continue
        server = None if name == "plain" else cadenza_on(big, "queries-big")
        on_big[name] = _timed_by(session, "queries-big", name, big_cases, big, server)
        server = None if name == "plain" else cadenza_on(small, "queries-compare")
        on_small[name] = _timed_by(session, "queries-compare", name, compare, small, server)
    # At the big size, the p99 the targets are about; at the smaller one, the p50: the
    # ratio of typical times (a p99 of a few hundred requests is one slow moment).
    target = targets.SERVER_TIME_P99
    rows = [_percentiles_row(c, _size(plan.store), on_big, "p99", target) for c in big_cases]
    rows += [_percentiles_row(c, _size(plan.compare_store), on_small, "p50") for c in compare]
    return rows


def _prefect(session: Session, small: seed.SeededFile, compare: list[Case]) -> Timed:
    """Prefect's times on a copy of its seeded database (its server may write to it)."""
    try:
        kept = prefect_database(session, small)
    except RuntimeError as exc:
        session.say(str(exc))
        return Timed({}, "could not be seeded")
    home = session.new_home("prefect-server")
    home.mkdir(parents=True)
    database = home / "prefect.db"
    shutil.copyfile(kept, database)
    framework = session.frameworks["prefect"]
    log = session.server_log("queries-compare", "prefect")
    try:
        return _timed_by(
            session,
            "queries-compare",
            "prefect",
            compare,
            small,
            lambda: prefect_server(framework, database, home, log, services=False),
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def notes(plan: ServerPlan) -> list[str]:
    """How the runs list and run page figures were measured, for RESULTS.md."""
    big, small = _size(plan.store), _size(plan.compare_store)
    return [
        f"Runs list and run page: a store seeded by bench/seed.py with {plan.store[0]:,} flow "
        f"runs over 90 days (a sixth of them subflow runs; 89 % Completed, the rest Failed, "
        f"TimedOut, Crashed, Cancelled, Cached, Running, Pending or Late; tags on some) and "
        f"{plan.store[1]:,} task runs, {plan.store[2]:,} of them in one run (the run page's), "
        "with two log lines per flow run and one per task run of the big run. cadenza: "
        "`cadenza server start` on the SQLite file, in a process of its own; requests from "
        f"another process on one keep-alive connection, {plan.warmup} untimed and "
        f"{plan.requests} timed per endpoint, the endpoints taking turns. Figure: p99 of the "
        "server's own time (its Server-Timing header: from the request's arrival to the "
        "start of the response); notes: p50, and the client's p99 (HTTP included). The run "
        "page's requests are those of the big run. Plain "
        "Python: the same questions answered by SQL on the same file with sqlite3, no HTTP "
        "(its time is the queries' time).",
        f"Prefect at {small}: its database (SQLite) filled by bench/workloads/prefect_seed.py "
        f"with the runs of a store seeded as above at {plan.compare_store[0]:,} flow runs and "
        f"{plan.compare_store[1]:,} task runs ({plan.compare_store[2]:,} in one run): the same "
        "flows, flow runs, task runs, every state of each and the log lines, inserted through "
        "Prefect's own SQLAlchemy tables after its migrations made the schema (seeding it at "
        f"{big} would take far too long). `prefect server start --no-services` (its services "
        "would first rework the seeded runs: cancelling subflows of cancelled runs, marking "
        "late runs) serves a copy, with the same Server-Timing header added around its "
        "application. cadenza and plain Python are timed on the same smaller store. "
        "Requests: POST /api/flow_runs/filter with limit 50 (its default sort, newest id "
        "first, as cadenza's), GET /api/flow_runs/{id}, POST /api/task_runs/filter and POST "
        "/api/logs/filter for the run, limit 200. At this size the figure is the p50 (the ratio "
        "of typical times), the p99 in the note.",
    ]
