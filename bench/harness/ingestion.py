"""The ingestion workload: task-run events a server records per second, end to end.

A client process runs flows of trivial tasks that report to a server in another
process (``cadenza server start``, ``prefect server start``, each on a new SQLite
file); the figure runs from the start of the first timed flow to the moment the last
task run is recorded in the server's database, whose rows are counted. A task run
is recorded when its row is Completed with a start time: its three events (created
as Pending, Running, Completed) have been applied. cadenza's flow call returns only
once the server has recorded everything the flow emitted, so its end is when the
last flow returned; Prefect's client returns earlier and its server goes on
recording, so its database is watched until it has every task run or stops growing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from harness import targets
from harness.plan import ServerPlan
from harness.processes import ProcessRun
from harness.rows import Row
from harness.servers import cadenza_server, prefect_server
from harness.session import Session

EVENTS_PER_TASK_RUN = 3
# framework -> the task-run table of its server's database
TASK_RUN_TABLE = {"cadenza": "task_runs", "prefect": "task_run", "plain": "task_runs"}
POLL_SECONDS = 0.2
STALL_SECONDS = 30.0
"""How long Prefect's database may stop growing before its count is taken as final."""
SETTLE_LIMIT = 300.0


def recorded_task_runs(framework: str, database: Path) -> int | None:
    """Completed task runs with a start time of the timed task (``add_one``, not the
    warm-up's) in a framework's SQLite file; None if it cannot be read."""
    if not database.exists():
        return 0
    table = TASK_RUN_TABLE[framework]
    query = (
        f"SELECT count(*) FROM {table} WHERE state_type = 'COMPLETED'"
        " AND start_time IS NOT NULL AND name LIKE 'add_one-%'"
    )
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as db:
            return int(db.execute(query).fetchone()[0])
    except sqlite3.Error:
        return None


class Watch:
    """Counts recorded task runs in a database every POLL_SECONDS, in a thread.

    Keeps when each new count was first seen, to tell when the last task run arrived.
    """

    def __init__(self, framework: str, database: Path) -> None:
        self.framework = framework
        self.database = database
        self.seen: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            count = recorded_task_runs(self.framework, self.database)
            if count is not None and (not self.seen or count != self.seen[-1][1]):
                self.seen.append((time.time(), count))
            self._stop.wait(POLL_SECONDS)

    def count(self) -> int:
        return self.seen[-1][1] if self.seen else 0

    def settle(self, expected: int) -> int:
        """Wait until ``expected`` are recorded, or STALL_SECONDS pass with no new one."""
        deadline = time.monotonic() + SETTLE_LIMIT
        while time.monotonic() < deadline and self.count() < expected:
            last_change = self.seen[-1][0] if self.seen else time.time()
            if time.time() - last_change > STALL_SECONDS:
                break
            time.sleep(POLL_SECONDS)
        return self.count()

    @property
    def last_change(self) -> float | None:
        return self.seen[-1][0] if self.seen else None


def _rate(run: ProcessRun, recorded: int, ended: float) -> float:
    elapsed = ended - run.figures["started_epoch"]
    return EVENTS_PER_TASK_RUN * recorded / elapsed


def _plain(session: Session, flows: int, tasks: int) -> tuple[float | None, str]:
    home = session.new_home("plain")
    run = session.run(
        "ingestion",
        "ingest",
        "plain",
        tasks,
        home=home,
        env={"BENCH_FLOWS": str(flows)},
        recorded=lambda: recorded_task_runs("plain", home / "plain.db"),
    )
    if not run.ok or run.recorded != flows * tasks:
        return None, "failed"
    return _rate(run, run.recorded, run.figures["returned_epoch"]), "executemany, no server"


def _cadenza(session: Session, flows: int, tasks: int) -> tuple[float | None, str]:
    folder = session.new_home("cadenza-server")
    database = folder / "server.db"
    server = cadenza_server(
        session.frameworks["cadenza"],
        f"sqlite:///{database}",
        folder,
        session.server_log("ingestion", "cadenza"),
    )
    with server:
        run = session.run(
            "ingestion",
            "ingest",
            "cadenza",
            tasks,
            env={"BENCH_FLOWS": str(flows), "CADENZA_API_URL": server.url},
            recorded=lambda: recorded_task_runs("cadenza", database),
        )
    if not run.ok or run.recorded is None:
        return None, "failed"
    if run.recorded != flows * tasks:
        return None, f"{flows * tasks - run.recorded:,} of {flows * tasks:,} task runs lost"
    rate = _rate(run, run.recorded, run.figures["returned_epoch"])
    return rate, f"{flows} flows x {tasks:,} tasks"


def _prefect(session: Session, flows: int, tasks: int) -> tuple[float | None, str]:
    home = session.new_home("prefect-server")
    database = home / "server.db"
    server = prefect_server(
        session.frameworks["prefect"], database, home, session.server_log("ingestion", "prefect")
    )
    expected = flows * tasks
    with server, Watch("prefect", database) as watch:
        run = session.run(
            "ingestion",
            "ingest",
            "prefect",
            tasks,
            env={"BENCH_FLOWS": str(flows), "PREFECT_API_URL": f"{server.url}/api"},
            recorded=lambda: watch.settle(expected),
        )
    if not run.ok or run.recorded is None or watch.last_change is None:
        return None, "failed"
    behind = watch.last_change - run.figures["returned_epoch"]
    note = (
        f"{flows} flows x {tasks:,} tasks; {run.recorded:,}/{expected:,} recorded, "
        f"the last {max(behind, 0):.0f} s after the client's last flow returned"
    )
    if run.recorded <= 0:
        return None, note
    return _rate(run, run.recorded, watch.last_change), note


def ingestion(session: Session) -> list[Row]:
    """Task-run events recorded per second, end to end, and the raw POST rate."""
    plan = session.plan.server
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    measure = {"plain": _plain, "cadenza": _cadenza, "prefect": _prefect}
    for name in session.framework_names:
        flows, tasks = plan.ingest_for(name)
        try:
            values[name], notes[name] = measure[name](session, flows, tasks)
        except RuntimeError as exc:  # the server did not start
            session.say(str(exc))
            values[name], notes[name] = None, "server did not start"
    rows = [
        Row(
            "ingestion_task_run_events_per_s",
            "ingestion over HTTP: task-run events recorded per second, end to end",
            "events/s",
            values,
            notes,
            targets.INGESTION,
        )
    ]
    if "cadenza" in session.frameworks:
        rows.append(post_events(session))
    return rows


def post_events(session: Session) -> Row:
    """``POST /api/events`` of pre-encoded batches, one after another: events per second."""
    folder = session.new_home("cadenza-server")
    database = folder / "server.db"
    batches = session.plan.server.post_batches
    server = cadenza_server(
        session.frameworks["cadenza"],
        f"sqlite:///{database}",
        folder,
        session.server_log("post_events", "cadenza"),
    )
    value: float | None = None
    note = ""
    with server:
        run = session.run(
            "post_events",
            "post_events",
            "cadenza",
            batches,
            env={"BENCH_SERVER_URL": server.url},
            recorded=lambda: recorded_task_runs("cadenza", database),
        )
    if run.ok:
        sent = run.figures["task_runs_sent"]
        if run.recorded == sent:
            value = run.figures["events"] / run.figures["post_seconds"]
            note = f"{batches} batches of {run.figures['batch_bytes'] / 1e6:.1f} MB"
        else:
            note = f"{sent - (run.recorded or 0):,} of {sent:,} task runs lost"
    return Row(
        "post_events_per_s",
        "POST /api/events, pre-encoded batches of 5,000 events: events recorded per second",
        "events/s",
        {"plain": None, "cadenza": value, "prefect": None},
        {"cadenza": note, "prefect": "not measured: its client streams events on a websocket"},
    )


def notes(plan: ServerPlan) -> list[str]:
    """How the ingestion figures were measured, for RESULTS.md."""
    flows, tasks = plan.ingest
    p_flows, p_tasks = plan.prefect_ingest
    return [
        f"Ingestion: a client process runs a one-task warm-up flow, then {flows} flows of "
        f"{tasks:,} sequential trivial tasks (Prefect: {p_flows} of {p_tasks:,}), reporting to a "
        "server in another process on a new SQLite file (cadenza: `cadenza server start`, "
        "CADENZA_API_URL; Prefect: `prefect server start` with its services, which record "
        "task runs, PREFECT_API_URL). Figure: 3 events (created, Running, Completed) per task "
        "run recorded (Completed, with a start time, in the server's database), divided by "
        "the time from the first timed flow's start to the last task run recorded: for "
        "cadenza when the last flow call returned (it returns once the server has recorded "
        "everything), for Prefect when its database, counted every 0.2 s, last grew. Plain "
        "Python: the same task-run rows inserted into a SQLite file with executemany, one "
        "transaction per flow.",
        "POST /api/events: batches of 5,000 events (a flow run and 1,666 task runs created, "
        "Running and Completed), encoded to JSON before the timing, sent one after another "
        "on one connection to a cadenza server on a new SQLite file; every task run is "
        "counted in its database afterwards.",
    ]
