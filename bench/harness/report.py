"""The results as a console table, as bench/RESULTS.md and as bench/out/latest.json."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness import caching, ingestion, registry, serving, tracking
from harness.plan import GROUPS, Plan
from harness.rows import RecordingRow, Row
from harness.session import Session

# competitor -> the framework columns of its table (Prefect's column stays in MLflow's
# table, saying that it has no tracking or registry)
FRAMEWORK_COLUMNS = {
    "prefect": ("plain", "cadenza", "prefect"),
    "mlflow": ("plain", "cadenza", "prefect", "mlflow"),
}
TABLE_TITLES = {
    "prefect": "Figures",
    "mlflow": "Tracking and the model registry, against MLflow",
}
# what is counted -> (title, the first header cell, the frameworks compared)
RECORDING_TABLES = {
    "task runs": (
        "Task runs recorded",
        "task runs in the database / executed",
        ("cadenza", "prefect"),
    ),
    "metric points": (
        "Metric points recorded",
        "metric points in the database / logged",
        ("cadenza", "mlflow"),
    ),
}
CASE_LABELS = {
    "sequential": "sequential task calls, all sizes",
    "submit": ".submit() + .result()",
    "map": ".map() + .result()",
    "startup-warmup": "one-task flow, first run in a home",
    "startup-empty": "one-task flow, empty home",
    "startup-existing": "one-task flow, existing database",
    "cache_hit": "cached task, hits, all sizes",
    "cache_miss": "cached task, misses + writes, all sizes",
    "hashing": "cached task on the DataFrame",
    "ingestion": "ingestion over HTTP (in the server's database)",
    "log_metric": "log_metric, single calls, all processes",
    "log_metric_server": "log_metric against a server (in the server's database)",
    "log_batch": "log_batch, one call",
    "runs": "runs with 5 params and 5 metrics",
}


def header(competitor: str) -> tuple[str, ...]:
    """The header of the table of rows compared with ``competitor``."""
    return ("figure", *FRAMEWORK_COLUMNS[competitor], f"cadenza/{competitor}", "target", "cadenza")


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    size = abs(value)
    if unit == "s":
        digits = 2 if size >= 1 else 3
    elif unit == "MB":
        digits = 0
    else:
        digits = 0 if size >= 100 else 1 if size >= 1 else 2
    return f"{value:,.{digits}f} {unit}"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio < 0.1:
        return f"1/{1 / ratio:,.0f}"
    return f"{ratio:.2f}"


def _verdict(met: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "—"}[met]


def row_cells(row: Row) -> list[str]:
    cells = [row.label]
    for name in FRAMEWORK_COLUMNS[row.competitor]:
        text = format_value(row.values.get(name), row.unit) if name in row.values else "not run"
        if note := row.notes.get(name):
            text += f" ({note})"
        cells.append(text)
    cells.append(format_ratio(row.ratio))
    cells.append(row.target.text if row.target else "")
    cells.append(_verdict(row.target_met) if row.target else "")
    return cells


def recording_cells(row: RecordingRow) -> list[str]:
    cells = [CASE_LABELS.get(row.case, row.case)]
    for name in RECORDING_TABLES[row.what][2]:
        if name in row.counts:
            recorded, executed = row.counts[name]
            cells.append(f"{recorded:,}/{executed:,} ({recorded / executed:.0%})")
        else:
            cells.append("—")
    return cells


def text_table(header: tuple[str, ...], lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [list(header), *lines]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(list(header)), rule, *(render(line) for line in lines)])


def markdown_table(header: tuple[str, ...], lines: list[list[str]], numbers: bool = True) -> str:
    align = ["---"] + ["--:" if numbers else "---"] * (len(header) - 1)
    rendered = [header, align, *lines]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in rendered)


def figure_tables(rows: list[Row]) -> list[tuple[str, tuple[str, ...], list[list[str]]]]:
    """(title, header, lines) of each competitor's table that has rows."""
    return [
        (
            title,
            header(competitor),
            [row_cells(row) for row in rows if row.competitor == competitor],
        )
        for competitor, title in TABLE_TITLES.items()
        if any(row.competitor == competitor for row in rows)
    ]


def recording_tables(
    recording: list[RecordingRow],
) -> list[tuple[str, tuple[str, ...], list[list[str]]]]:
    """(title, header, lines) of each count that has rows: task runs, metric points."""
    return [
        (title, (first, *names), [recording_cells(row) for row in recording if row.what == what])
        for what, (title, first, names) in RECORDING_TABLES.items()
        if any(row.what == what for row in recording)
    ]


def console(rows: list[Row], recording: list[RecordingRow]) -> str:
    tables = [*figure_tables(rows), *recording_tables(recording)]
    return "\n\n".join(text_table(head, lines) for _, head, lines in tables)


def _plan_notes(plan: Plan, machine: dict[str, str]) -> list[str]:
    small, big = plan.sizes
    notes = [
        "Every figure comes from fresh processes, each with an empty temporary home "
        "(CADENZA_HOME, PREFECT_HOME) unless the row says otherwise; Prefect runs in its "
        "default local mode (no PREFECT_API_URL: it starts its own temporary API server on "
        "SQLite).",
        f"Overhead per task: (t(N={big:,}) - t(N={small:,})) / {big - small:,} of a flow of "
        "trivial tasks, less plain Python's cost for the same calls; t runs from the flow "
        "call to the end of the process's exit handlers, so that work deferred to the exit "
        f"counts. Median of {plan.reps} processes per size for plain Python and cadenza, "
        f"{plan.prefect_reps} for Prefect.",
        "One-task flow: wall time of `python one_task.py` measured from outside, process "
        f"start to exit, median of {plan.startup_reps}. Imports: timed inside the process, "
        f"median of {plan.startup_reps} after one warm-up.",
        f"Peak memory: ru_maxrss of the process plus that of the child processes it waited "
        f"for (Prefect's API server). Prefect runs the memory workload at N="
        f"{plan.prefect_memory_size:,} only: N={plan.memory_size:,} would take it far too long.",
        "Task runs recorded: rows in the task-run table of the framework's SQLite file "
        "(cadenza: task_runs in cadenza.db; Prefect: task_run in prefect.db), counted after "
        "the process exited.",
        f"Prefect {machine.get('prefect', '?')} runs with FastAPI {machine.get('fastapi', '?')}: "
        "its API server needs a FastAPI older than 0.155.",
    ]
    chosen = set(plan.workloads)
    if set(GROUPS["caching"]) & chosen:
        notes += caching.notes(plan)
    if "ingestion" in chosen:
        notes += ingestion.notes(plan.server)
    if set(serving.WORKLOADS) & chosen:
        notes += serving.notes(plan.server)
    if set(tracking.WORKLOADS) & chosen:
        notes += tracking.notes(plan.tracking)
    if "registry" in chosen:
        notes += registry.notes(plan.tracking)
    return notes


def results_markdown(
    plan: Plan, machine: dict[str, str], rows: list[Row], recording: list[RecordingRow]
) -> str:
    machine_lines = [
        ["CPU", f"{machine['cpu']}, {machine['cores']} cores"],
        ["memory", machine["memory"]],
        ["OS", machine["os"]],
        ["Python", machine["python"]],
        ["date", machine["date"]],
        ["load average before the run", machine.get("load_before", "—")],
        ["cadenza", machine.get("cadenza", "—")],
        ["prefect", machine.get("prefect", "not run")],
        ["mlflow", machine.get("mlflow", "not run")],
        ["data packages (cadenza's and Prefect's environments)", machine.get("data", "—")],
        ["packages next to MLflow", machine.get("mlflow_packages", "—")],
        ["duration of the run", machine.get("duration", "—")],
    ]
    parts = [
        "# Benchmark results",
        "The latest figures of `make bench`: the same workloads on plain Python, cadenza and "
        "Prefect 3 (MLflow 3 for tracking and the model registry), each in fresh processes. "
        "bench/README.md tells how to run and read them.",
        "## Machine",
        markdown_table(("", ""), machine_lines, numbers=False),
    ]
    for title, head, lines in [*figure_tables(rows), *recording_tables(recording)]:
        parts += [f"## {title}", markdown_table(head, lines)]
    parts += [
        "## How they were measured",
        "\n".join(f"- {note}" for note in _plan_notes(plan, machine)),
    ]
    return "\n\n".join(parts) + "\n"


def latest_json(
    plan: Plan,
    machine: dict[str, str],
    rows: list[Row],
    recording: list[RecordingRow],
    session: Session,
) -> str:
    runs: list[dict[str, Any]] = []
    for case, run in session.runs:
        entry = asdict(run)
        entry["case"] = case
        runs.append(entry)
    payload = {
        "plan": asdict(plan),
        "machine": machine,
        "rows": [row.as_dict() for row in rows],
        "recording": [row.as_dict() for row in recording],
        "runs": runs,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
