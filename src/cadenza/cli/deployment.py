"""``cadenza deployment``: list, inspect, run, pause, resume, backfill and delete deployments."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment
    from cadenza.runs import FlowRun
    from cadenza.store.deploy_base import DeploymentStore

_JSON = "Print JSON instead of text."


@click.group("deployment")
def deployment() -> None:
    """Deployments: flows that run by themselves on the workers of a work pool."""


def deployment_store() -> DeploymentStore:
    from cadenza.cli.lookup import load_settings
    from cadenza.client import get_deployment_store

    load_settings()
    return get_deployment_store()


def find_deployment(store: DeploymentStore, ref: str) -> Deployment:
    """The deployment named ``FLOW/NAME``, or of this id.

    Raises:
        CliError: there is none; the message lists the deployments.
    """
    flow_name, sep, name = ref.partition("/")
    found = store.read_deployment_by_name(flow_name, name) if sep else store.read_deployment(ref)
    if found is not None:
        return found
    names = [d.full_name for d in store.list_deployments()]
    listed = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "") if names else "none yet"
    raise CliError(
        f"There is no deployment {ref!r} (give FLOW/NAME). Deployments: {listed}. "
        "Create one with `cadenza deploy`."
    )


def run_json(run: FlowRun) -> dict[str, Any]:
    from cadenza.cli.serialize import flow_run_json

    out = flow_run_json(run)
    from cadenza.cli.output import timestamp_fields

    out.update(
        deployment_id=run.deployment_id,
        work_pool_name=run.work_pool_name,
        work_queue_name=run.work_queue_name,
        **timestamp_fields("expected_start_time", run.expected_start_time),
    )
    return out


@deployment.command("ls")
@click.option("--flow", "flow_name", metavar="NAME", help="Only deployments of this flow.")
@click.option("--pool", metavar="POOL", help="Only deployments of this work pool.")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def ls_command(flow_name: str | None, pool: str | None, as_json: bool) -> None:
    """List deployments: name, work pool, schedules, whether paused, next run.

    \b
    Example:
        cadenza deployment ls --pool training
    """
    from cadenza.cli.output import console, echo_json, local_time, print_block
    from cadenza.deploy.serialize import deployment_json

    store = deployment_store()
    found = store.list_deployments(flow_name=flow_name, work_pool_name=pool)
    if as_json:
        echo_json([deployment_json(d) for d in found])
        return
    out = console()
    if not found:
        out.print("No deployments yet: create one with `cadenza deploy`.")
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("DEPLOYMENT", "POOL", "SCHEDULES", "STATUS", "NEXT RUN"):
        table.add_column(title, no_wrap=True)
    for d in found:
        upcoming = store.list_scheduled_flow_runs(deployment_id=d.id, limit=1)
        table.add_row(
            d.full_name,
            f"{d.work_pool_name}/{d.work_queue_name}",
            "; ".join(s.schedule.describe() for s in d.schedules if s.active) or "-",
            "paused" if d.paused else "active",
            local_time(upcoming[0].expected_start_time) if upcoming else "-",
        )
    print_block(out, table)


@deployment.command("inspect")
@click.argument("ref", metavar="FLOW/NAME")
@click.option("--runs", "n_runs", default=5, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def inspect_command(ref: str, n_runs: int, as_json: bool) -> None:
    """Show a deployment: its entrypoint, parameters, schedules and next runs.

    \b
    Example:
        cadenza deployment inspect monthly-training/monthly
    """
    from cadenza.cli.output import echo_json, local_time
    from cadenza.deploy.serialize import deployment_json

    store = deployment_store()
    d = find_deployment(store, ref)
    upcoming = store.list_scheduled_flow_runs(deployment_id=d.id, limit=n_runs)
    if as_json:
        echo_json({**deployment_json(d), "next_runs": [run_json(r) for r in upcoming]})
        return
    rows = [
        ("Deployment", d.full_name),
        ("Id", d.id),
        ("Entrypoint", d.entrypoint),
        ("Folder", d.path or "-"),
        ("Work pool", f"{d.work_pool_name} (queue {d.work_queue_name})"),
        ("Status", "paused" if d.paused else "active"),
        ("Parameters", _params(d.parameters)),
        ("Tags", ", ".join(d.tags) or "-"),
        ("Version", d.version or "-"),
        ("Catch-up", d.catchup),
        ("Limit", "-" if d.concurrency_limit is None else str(d.concurrency_limit)),
        ("Retries", str(d.flow_retries)),
    ]
    for label, value in rows:
        click.echo(f"{label + ':':<13}{value}")
    click.echo("Schedules:")
    for s in d.schedules or []:
        click.echo(f"  {s.schedule.describe()}{'' if s.active else ' (inactive)'}")
    if not d.schedules:
        click.echo("  none: runs start with `cadenza deployment run`")
    click.echo("Next runs:")
    for r in upcoming:
        state = r.state.name if r.state else "-"
        click.echo(f"  {local_time(r.expected_start_time)}  {r.name}  {state}  {r.id}")
    if not upcoming:
        click.echo("  none")


def _params(values: dict[str, Any]) -> str:
    import json

    return json.dumps(values, ensure_ascii=False) if values else "-"


@deployment.command("run")
@click.argument("ref", metavar="FLOW/NAME")
@click.option("--param", "params", multiple=True, metavar="K=V", help="A parameter (repeat).")
@click.option("--start-in", metavar="DURATION", help="Start after this long: 30s, 10m, 2h, 1d.")
@click.option("--start-at", metavar="WHEN", help="Start at this time (ISO, local time).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag of this run (repeat).")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def run_command(
    ref: str,
    params: tuple[str, ...],
    start_in: str | None,
    start_at: str | None,
    tags: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a run of a deployment, now or later; a worker of its pool runs it.

    Values of --param are JSON when they parse as JSON (3, true, [1, 2]), else text;
    they are checked against the flow's parameters before the run is created.

    \b
    Example:
        cadenza deployment run monthly-training/monthly --param month=3 --start-in 10m
    """
    from cadenza.deploy.backfill import run_deployment
    from cadenza.deploy.parameters import parse_assignments

    when = _start_time(start_in, start_at)
    store = deployment_store()
    d = find_deployment(store, ref)
    run = run_deployment(store, d, parse_assignments(params), start_at=when, tags=tags)
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json(run_json(run))
        return
    from cadenza.cli.output import local_time

    click.echo(
        f"Created flow run {run.name!r} ({run.id}) of {d.full_name}, due "
        f"{local_time(run.expected_start_time)}, on work pool {d.work_pool_name!r}."
    )


def _start_time(start_in: str | None, start_at: str | None) -> float | None:
    if start_in and start_at:
        raise CliError("Give --start-in or --start-at, not both.")
    if start_in:
        from cadenza.utilities.durations import parse_duration

        return time.time() + parse_duration(start_in, what="--start-in")
    if start_at:
        return _moment(start_at, "--start-at")
    return None


def _moment(text: str, option: str) -> float:
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise CliError(
            f"{option} {text!r} is not a date or date-time (2024-01-31 or 2024-01-31T09:00)."
        ) from None


@deployment.command("pause")
@click.argument("ref", metavar="FLOW/NAME")
def pause_command(ref: str) -> None:
    """Pause a deployment's schedules (their future runs are removed; runs created by
    hand still run).

    \b
    Example:
        cadenza deployment pause monthly-training/monthly
    """
    store = deployment_store()
    d = find_deployment(store, ref)
    assert d.id is not None
    store.set_deployment_paused(d.id, True)
    click.echo(f"Paused the schedules of {d.full_name}.")


@deployment.command("resume")
@click.argument("ref", metavar="FLOW/NAME")
def resume_command(ref: str) -> None:
    """Resume a deployment's schedules; its next runs are created at once.

    \b
    Example:
        cadenza deployment resume monthly-training/monthly
    """
    from cadenza.deploy.scheduler import Scheduler

    store = deployment_store()
    d = find_deployment(store, ref)
    assert d.id is not None
    resumed = store.set_deployment_paused(d.id, False)
    created = Scheduler(store).schedule(resumed)
    click.echo(f"Resumed the schedules of {d.full_name}; {len(created)} run(s) scheduled.")


@deployment.command("backfill")
@click.argument("ref", metavar="FLOW/NAME")
@click.option("--start", required=True, metavar="DATE", help="First time included (ISO).")
@click.option("--end", required=True, metavar="DATE", help="End of the range, excluded (ISO).")
@click.option(
    "--param-from-date",
    "from_date",
    multiple=True,
    metavar="NAME[=FORMAT]",
    help="Set a parameter from each run's schedule time: year, month, day, hour give "
    "numbers, another name the date, NAME=%Y-%m a formatted text (repeat).",
)
@click.option("--param", "params", multiple=True, metavar="K=V", help="A parameter (repeat).")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def backfill_command(
    ref: str,
    start: str,
    end: str,
    from_date: tuple[str, ...],
    params: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create one run per time of the deployment's schedules from START to END.

    The runs are due at once; each stands for its schedule time, which the flow reads
    as cadenza.runtime.flow_run.scheduled_start_time. Dates without a time are
    midnight, in each schedule's timezone. Making the same backfill again creates
    only the runs that are missing.

    \b
    Example:
        cadenza deployment backfill taxi/monthly --start 2023-01-01 --end 2023-07-01 \\
            --param-from-date year --param-from-date month
    """
    import datetime as dt

    from cadenza.deploy.backfill import backfill
    from cadenza.deploy.parameters import parse_assignments

    def moment(text: str, option: str) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise CliError(f"{option} {text!r} is not a date (2023-01-01).") from None

    store = deployment_store()
    d = find_deployment(store, ref)
    result = backfill(
        store,
        d,
        moment(start, "--start"),
        moment(end, "--end"),
        parameters=parse_assignments(params),
        param_from_date=from_date,
    )
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json(
            {
                "created": [run_json(r) for r in result.created],
                "existing": result.existing,
                "times": [t.isoformat() for t in result.times],
            }
        )
        return
    click.echo(
        f"Backfill of {d.full_name}: {len(result.created)} run(s) created"
        + (f", {result.existing} existed already" if result.existing else "")
        + "."
    )
    for run in result.created:
        from cadenza.runtime.flow_run import scheduled_time_of

        click.echo(f"  {scheduled_time_of(run).isoformat()}  {run.name}  {_params(run.parameters)}")


@deployment.command("delete")
@click.argument("ref", metavar="FLOW/NAME")
def delete_command(ref: str) -> None:
    """Delete a deployment and its runs that have not started.

    \b
    Example:
        cadenza deployment delete monthly-training/monthly
    """
    store = deployment_store()
    d = find_deployment(store, ref)
    assert d.id is not None
    store.delete_deployment(d.id)
    click.echo(f"Deleted {d.full_name}.")
