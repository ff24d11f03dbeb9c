"""The figures of the tracking workloads: ``log_metric``, ``log_batch``, creating and searching
runs; cadenza against MLflow (Prefect has no experiment tracking).

Every process's metric points are counted in its database afterwards (the server's,
for the server rows): a framework that lost some gets no figure, and the row says how
many were lost.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from harness import targets
from harness.measures import median_of
from harness.plan import TrackingPlan
from harness.processes import ProcessRun
from harness.recording import count_metric_points
from harness.rows import RecordingRow, Row
from harness.servers import ServerProcess, cadenza_server, mlflow_server
from harness.session import Session

WORKLOADS = ("log_metric", "log_batch", "runs")
NO_TRACKING = {"prefect": "no tracking"}


def counted_run(
    session: Session,
    case: str,
    workload: str,
    framework: str,
    n: int,
    *,
    home: Path | None = None,
    env: dict[str, str] | None = None,
    database: Path | None = None,
) -> ProcessRun:
    """A process of a tracking workload, with the metric points of its database (or of
    ``database``, a server's) counted afterwards. A home of its own, removed afterwards,
    unless ``home`` is given."""
    folder = home if home is not None else session.new_home(framework)
    try:
        return session.run(
            case,
            workload,
            framework,
            n,
            home=folder,
            env=env,
            recorded=lambda: count_metric_points(framework, folder, database),
        )
    finally:
        if home is None:
            shutil.rmtree(folder, ignore_errors=True)


def lost(runs: list[ProcessRun]) -> str | None:
    """How many metric points the processes logged and their database does not hold."""
    logged = sum(int(run.figures.get("points", 0)) for run in runs if run.ok)
    recorded = sum(run.recorded or 0 for run in runs if run.ok)
    if logged != recorded:
        return f"{logged - recorded:,} of {logged:,} points not in the database"
    return None


def figure(
    runs: list[ProcessRun], get: Callable[[ProcessRun], float | None], scale: float = 1.0
) -> tuple[float | None, str | None]:
    """The median of ``get`` over the processes, scaled; None and why when points were lost."""
    if problem := lost(runs):
        return None, problem
    value = median_of(runs, get)
    return (None, "failed") if value is None else (value * scale, None)


def _seconds(key: str) -> Callable[[ProcessRun], float | None]:
    return lambda run: run.figures.get(key)


def _reps(session: Session, name: str) -> range:
    return range(session.plan.reps_for(name))


def _to_durable(
    session: Session, workload: str, calls: str, plain: str
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Seconds to durable of ``workload`` at the plan's points on each framework, and the
    notes: ``plain`` for plain Python, ``calls`` and their time for the others."""
    values: dict[str, float | None] = dict.fromkeys(NO_TRACKING)
    notes = dict(NO_TRACKING)
    n = session.plan.tracking.points
    for name in session.names_for("mlflow"):
        runs = [counted_run(session, workload, workload, name, n) for _ in _reps(session, name)]
        values[name], problem = figure(runs, _seconds("done_seconds"))
        notes[name] = problem or (plain if name == "plain" else _call_note(runs, calls))
    return values, notes


def _call_note(runs: list[ProcessRun], what: str) -> str:
    """``what`` and the median time of the calls alone, from inside the processes."""
    seconds = median_of(runs, _seconds("calls_seconds"))
    if seconds is None:
        return ""
    return f"{what} {seconds:,.2f} s" if seconds >= 1 else f"{what} {seconds * 1000:.1f} ms"


def log_metric(session: Session) -> list[Row]:
    """N single ``log_metric`` calls to durable, on the embedded database and on a server."""
    plan = session.plan.tracking
    local, local_notes = _to_durable(session, "log_metric", "the calls alone", "list + executemany")
    rows = [
        Row(
            "log_metric_s",
            f"{plan.points:,} single log_metric calls in a run, to durable",
            "s",
            local,
            local_notes,
            targets.LOG_METRIC,
            competitor="mlflow",
        )
    ]
    served: dict[str, float | None] = dict.fromkeys(NO_TRACKING)
    served_notes = dict(NO_TRACKING)
    for name in session.names_for("mlflow"):
        if name == "plain":
            plain = local.get("plain")
            served[name] = None if plain is None else plain / plan.points * 1e6
            served_notes[name] = "executemany, no server"
            continue
        served[name], served_notes[name] = _against_server(session, name, plan)
    rows.append(
        Row(
            "log_metric_server_us",
            f"log_metric against a server in another process, per point, to durable "
            f"(N={plan.points:,})",
            "µs",
            served,
            served_notes,
            competitor="mlflow",
        )
    )
    return rows


def _server(session: Session, name: str, folder: Path, database: Path) -> ServerProcess:
    log = session.server_log("log_metric_server", name)
    if name == "cadenza":
        return cadenza_server(session.frameworks[name], f"sqlite:///{database}", folder, log)
    return mlflow_server(session.frameworks[name], database, folder, log)


def _against_server(session: Session, name: str, plan: TrackingPlan) -> tuple[float | None, str]:
    """µs per point of ``log_metric`` reporting to the framework's server, and a note."""
    n = plan.points if name == "cadenza" else plan.mlflow_server_points
    variable = "CADENZA_API_URL" if name == "cadenza" else "MLFLOW_TRACKING_URI"
    runs = []
    for _ in _reps(session, name):
        folder = session.new_home(f"{name}-server")
        database = folder / "server.db"
        try:
            with _server(session, name, folder, database) as server:
                run = counted_run(
                    session,
                    "log_metric_server",
                    "log_metric",
                    name,
                    n,
                    env={variable: server.url},
                    database=database,
                )
        except RuntimeError as exc:  # the server did not start
            session.say(str(exc))
            return None, "server did not start"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        runs.append(run)
    value, problem = figure(runs, _seconds("done_seconds"), 1e6 / n)
    if problem:
        return None, problem
    if name == "cadenza":
        return value, "cadenza server start"
    return value, f"N={n:,}; mlflow server, one worker"


def log_batch(session: Session) -> list[Row]:
    """N points in one call, to durable."""
    plan = session.plan.tracking
    values, notes = _to_durable(session, "log_batch", "the call", "executemany")
    return [
        Row(
            "log_batch_s",
            f"log_batch of {plan.points:,} points in one call, in a run, to durable",
            "s",
            values,
            notes,
            competitor="mlflow",
        )
    ]


def runs(session: Session) -> list[Row]:
    """Creating runs with 5 params and 5 metrics each, then searching them."""
    plan = session.plan.tracking
    created: dict[str, float | None] = dict.fromkeys(NO_TRACKING)
    search: dict[str, float | None] = dict.fromkeys(NO_TRACKING)
    first: dict[str, float | None] = dict.fromkeys(NO_TRACKING)
    notes = {"plain": "executemany", **NO_TRACKING}
    search_notes = {"plain": "SQL, sqlite3", **NO_TRACKING}
    found: float | None = None
    for name in session.names_for("mlflow"):
        creating, searching = [], []
        for _ in _reps(session, name):
            home = session.new_home(name)
            run = counted_run(session, "runs", "runs", name, plan.runs, home=home)
            creating.append(run)
            if run.ok:
                env = {"BENCH_RUNS": str(plan.runs)}
                searching.append(
                    session.run(
                        "search_runs", "search_runs", name, plan.searches, home=home, env=env
                    )
                )
            shutil.rmtree(home, ignore_errors=True)
        created[name], problem = figure(creating, _seconds("done_seconds"))
        if problem:
            notes[name] = problem
        search[name] = median_of(searching, _seconds("search_seconds"))
        first[name] = median_of(searching, _seconds("first_seconds"))
        found = median_of(searching, _seconds("search_rows")) or found
    matches = "" if found is None else f"{found:,.0f} found, "
    return [
        Row(
            "create_runs_s",
            f"create {plan.runs:,} runs with 5 params and 5 metrics each, to durable",
            "s",
            created,
            notes,
            competitor="mlflow",
        ),
        Row(
            "search_runs_ms",
            f'search_runs("metrics.rmse < 0.5") over those runs ({matches}median of '
            f"{plan.searches})",
            "ms",
            _scaled(search, 1000),
            search_notes,
            competitor="mlflow",
        ),
        Row(
            "search_runs_first_100_ms",
            "the same ordered by metrics.m1, the first 100",
            "ms",
            _scaled(first, 1000),
            {"plain": "SQL, sqlite3", **NO_TRACKING},
            competitor="mlflow",
        ),
    ]


def _scaled(values: dict[str, float | None], scale: float) -> dict[str, float | None]:
    return {name: None if value is None else value * scale for name, value in values.items()}


def recording(session: Session) -> list[RecordingRow]:
    """Metric points found in each framework's database against the points logged, per case."""
    totals: dict[str, dict[str, tuple[int, int]]] = {}
    for case, run in session.runs:
        if run.recorded is None or "points" not in run.figures:
            continue
        counts = totals.setdefault(case, {})
        recorded, logged = counts.get(run.framework, (0, 0))
        counts[run.framework] = (recorded + run.recorded, logged + int(run.figures["points"]))
    return [RecordingRow(case, counts, "metric points") for case, counts in totals.items()]


def notes(plan: TrackingPlan) -> list[str]:
    """How the tracking figures were measured, for RESULTS.md."""
    return [
        "Tracking: cadenza against MLflow (Prefect has no experiment tracking or model "
        "registry: its column says so). MLflow runs on a SQLite tracking URI "
        "(`sqlite:///mlflow.db` in the process's empty home), cadenza on its embedded "
        "SQLite file; each process logs one point (or run) to warm up, then the timed run, "
        "whose clock stops at the end of the process's exit handlers. Afterwards the "
        "metric points are counted in the database (cadenza: metric_points; MLflow: "
        "metrics): a figure is given only when all are there.",
        f"log_metric: {plan.points:,} calls of `log_metric('loss', v, step=i)` inside a "
        "`@flow` (cadenza) or `mlflow.start_run()` (MLflow); plain Python appends the same "
        "points to a list and writes them with one sqlite3 executemany. Against a server: "
        "the same workload with CADENZA_API_URL to `cadenza server start`, or "
        f"MLFLOW_TRACKING_URI to `mlflow server` with one worker (with more, uvicorn does "
        f"not set TCP_NODELAY and each request waits ~40 ms more) and its job runner off, "
        f"at N={plan.mlflow_server_points:,} (at ~10 ms a request, {plan.points:,} would "
        "take minutes for the same figure); both servers on a new SQLite file, their "
        "points counted there. The figure is per point.",
        f"log_batch: {plan.points:,} points built into a list and logged in one call: "
        "cadenza's `TrackingClient().log_batch` on a flow run, MLflow's "
        "`MlflowClient().log_batch` inside `start_run()`; the note gives the call alone.",
        f"Runs: {plan.runs:,} runs with 5 params and 5 metrics each (cadenza: task runs of "
        "one flow, each calling log_params and log_metrics; MLflow: start_run blocks in one "
        "experiment), timed to durable; then, in another process on the same database, "
        f"`search_runs` with the filter `metrics.rmse < 0.5` (about half of them match; "
        "at most 1,000 returned, the default page of both) and the same ordered by "
        f"metrics.m1, the first 100: one untimed, then the median of {plan.searches} "
        "(cadenza: `TrackingClient().search_runs`, MLflow: `MlflowClient().search_runs`, "
        "both lists of runs with their params and metrics). The number of runs found is "
        "checked.",
    ]
