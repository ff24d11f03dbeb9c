"""``make bench``: the same workloads on plain Python, cadenza and Prefect 3 (MLflow 3 for
tracking and the model registry), compared.

Usage: python bench/run.py [--quick] [--only NAME ...] [--skip-prefect] [--skip-mlflow] [--profile]

``--only caching`` runs the caching workloads: cache_hit, cache_miss and hashing;
``--only server`` the server's: ingestion, runs_list and run_page; ``--only tracking``
log_metric, log_batch, runs and registry.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness import caching, environments, ingestion, measures, registry, report, serving, tracking
from harness.environments import BENCH_DIR, OUT_DIR, Framework
from harness.machine import describe, load_average
from harness.plan import FULL, GROUPS, QUICK, WORKLOADS, Plan, expand, taking_part
from harness.processes import ProcessRun
from harness.profiling import profile_workload
from harness.rows import RecordingRow, Row
from harness.session import Session

PROFILE_SIZE = 10_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=(
            "Compare plain Python, cadenza and Prefect 3 (MLflow 3 for tracking and the "
            "model registry) on the same workloads."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one process each: a smoke run"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=(
            "run only these workloads (repeat or separate with commas): "
            f"{', '.join(WORKLOADS)}; or a group: "
            + "; ".join(f"{name} ({', '.join(members)})" for name, members in GROUPS.items())
        ),
    )
    parser.add_argument(
        "--skip-prefect", action="store_true", help="no Prefect: plain Python and cadenza only"
    )
    parser.add_argument(
        "--skip-mlflow",
        action="store_true",
        help="no MLflow in the tracking workloads: plain Python and cadenza only",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"also cProfile cadenza's sequential workload at N={PROFILE_SIZE:,}",
    )
    args = parser.parse_args(argv)
    if args.only:
        names = [name.strip() for value in args.only for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(WORKLOADS) - set(GROUPS))
        if unknown:
            choices = ", ".join([*WORKLOADS, *GROUPS])
            parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {choices}")
        args.only = expand(names)
    return args


def build_plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    if args.only:
        plan = dataclasses.replace(plan, workloads=tuple(w for w in WORKLOADS if w in args.only))
    skipped = {"prefect"} if args.skip_prefect else set()
    if args.skip_mlflow:
        skipped.add("mlflow")
    frameworks = tuple(name for name in plan.frameworks if name not in skipped)
    # A competitor is installed and run only when one of its workloads runs.
    return dataclasses.replace(plan, frameworks=taking_part(frameworks, plan.workloads))


def measure(session: Session) -> list[Row]:
    rows: list[Row] = []
    # The runs list and the run page share their seeded stores and servers: measured together.
    served = [w for w in session.plan.workloads if w in serving.WORKLOADS]
    for workload in session.plan.workloads:
        if workload in measures.TASK_WORKLOADS:
            rows.append(measures.task_overhead(session, workload))
        elif workload == "startup":
            rows += measures.startup(session)
        elif workload == "import":
            rows += measures.imports(session)
        elif workload == "memory":
            rows += measures.memory(session)
        elif workload in caching.CACHE_WORKLOADS:
            rows.append(caching.cache_overhead(session, workload))
        elif workload == "hashing":
            rows += caching.hashing(session)
        elif workload == "ingestion":
            rows += ingestion.ingestion(session)
        elif workload in serving.WORKLOADS and workload == served[0]:
            rows += serving.queries(session, served)
        elif workload == "log_metric":
            rows += tracking.log_metric(session)
        elif workload == "log_batch":
            rows += tracking.log_batch(session)
        elif workload == "runs":
            rows += tracking.runs(session)
        elif workload == "registry":
            rows += registry.registry(session)
    return rows


def _listed(versions: dict[str, str | None], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {versions[name]}" for name in names if versions.get(name)) or "—"


def load_frameworks(plan: Plan) -> tuple[dict[str, Framework], dict[str, str]]:
    """The frameworks taking part (installing Prefect and MLflow if needed) and their versions."""
    frameworks = {"plain": environments.plain(), "cadenza": environments.cadenza()}
    versions = {"cadenza": frameworks["cadenza"].version}
    data = environments.installed_versions(environments.DATA_PACKAGES)
    versions["data"] = _listed(dict(data), environments.DATA_PACKAGES)
    if "prefect" in plan.frameworks:
        prefect = environments.PREFECT
        frameworks["prefect"], found = prefect.framework(OUT_DIR / "prefect-install.log")
        versions["prefect"] = prefect.version
        versions["fastapi"] = found["fastapi"] or "?"
    if "mlflow" in plan.frameworks:
        mlflow = environments.MLFLOW
        frameworks["mlflow"], found = mlflow.framework(OUT_DIR / "mlflow-install.log")
        versions["mlflow"] = mlflow.version
        versions["mlflow_packages"] = _listed(found, mlflow.shared)
    return frameworks, versions


def write_outputs(
    session: Session, machine: dict[str, str], rows: list[Row], recording: list[RecordingRow]
) -> None:
    """bench/out/latest.json always; bench/RESULTS.md after a full run in which nothing failed."""
    plan = session.plan
    report.write(
        OUT_DIR / "latest.json", report.latest_json(plan, machine, rows, recording, session)
    )
    if plan.is_complete and not failed_runs(session):
        report.write(
            BENCH_DIR / "RESULTS.md", report.results_markdown(plan, machine, rows, recording)
        )
        print("\nWrote bench/RESULTS.md and bench/out/latest.json.")
    else:
        reason = "some runs failed" if failed_runs(session) else "not a full run"
        print(f"\nWrote bench/out/latest.json; bench/RESULTS.md is left as it was ({reason}).")
    for case, run in session.failures:
        print(f"failed: {case} {run.framework} N={run.n:,} (bench/out/logs/{run.log_name})")


def failed_runs(session: Session) -> list[tuple[str, ProcessRun]]:
    """Failed processes of plain Python or cadenza; the competitors' own failures are only
    reported."""
    return [(case, run) for case, run in session.failures if run.framework in ("plain", "cadenza")]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = build_plan(args)
    started = time.perf_counter()
    load_before = load_average()
    logs = OUT_DIR / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    frameworks, versions = load_frameworks(plan)
    print(
        f"bench ({plan.mode}): {', '.join(plan.workloads)} on {', '.join(frameworks)}; "
        f"process logs in bench/out/logs/",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="bench-homes-") as scratch:
        session = Session(
            plan, frameworks, Path(scratch), logs, say=lambda line: print(line, flush=True)
        )
        rows = measure(session)
        recording = measures.recording(session) + tracking.recording(session)
        profile = None
        if args.profile:
            home = Path(scratch) / "profile-home"
            profile = profile_workload(
                "sequential", frameworks["cadenza"], PROFILE_SIZE, home, OUT_DIR
            )

    machine = describe(versions)
    machine["load_before"] = load_before
    machine["duration"] = f"{(time.perf_counter() - started) / 60:.1f} min ({plan.mode})"
    print()
    print(report.console(rows, recording))
    if profile:
        print(f"\ncProfile of cadenza's timed sequential flow, N={PROFILE_SIZE:,} (main thread):")
        print(profile)
    write_outputs(session, machine, rows, recording)
    return 1 if failed_runs(session) else 0


if __name__ == "__main__":
    sys.exit(main())
