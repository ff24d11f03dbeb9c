"""``cadenza deploy``: make a flow a deployment, from the command line or ``cadenza.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment, DeploymentSchedule


@click.command("deploy")
@click.argument("entrypoint", required=False)
@click.option("--name", "-n", "name", metavar="NAME", help="The deployment's name.")
@click.option("--pool", "-p", "pool", metavar="POOL", help="The work pool of its runs.")
@click.option("--queue", "-q", "queue", default="default", show_default=True, metavar="QUEUE")
@click.option("--cron", multiple=True, metavar="EXPR", help='A cron schedule ("0 9 3 * *").')
@click.option(
    "--interval", multiple=True, metavar="DURATION", help="An interval schedule: 300, 10m, 1d."
)
@click.option("--rrule", multiple=True, metavar="RULE", help="An RRULE schedule (FREQ=DAILY...).")
@click.option("--timezone", metavar="TZ", help="The schedules' timezone (default UTC).")
@click.option("--anchor-date", metavar="DATE", help="Where intervals count from (ISO date-time).")
@click.option("--param", "params", multiple=True, metavar="K=V", help="A default parameter.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag of its runs (repeat).")
@click.option("--description", metavar="TEXT")
@click.option("--version", "version", metavar="TEXT", help="Default: a hash of the flow's file.")
@click.option(
    "--catchup",
    type=click.Choice(["all", "latest", "skip"]),
    default="all",
    show_default=True,
    help="What runs missed while workers were down do.",
)
@click.option("--concurrency-limit", type=click.IntRange(min=0), metavar="N")
@click.option("--paused", is_flag=True, help="Create it with its schedules paused.")
@click.option("--all", "deploy_all", is_flag=True, help="Deploy every deployment of cadenza.yaml.")
@click.option(
    "--file",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The cadenza.yaml to read (default: in this folder or above).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the deployments as JSON.")
def deploy_command(
    entrypoint: str | None,
    name: str | None,
    pool: str | None,
    queue: str,
    cron: tuple[str, ...],
    interval: tuple[str, ...],
    rrule: tuple[str, ...],
    timezone: str | None,
    anchor_date: str | None,
    params: tuple[str, ...],
    tags: tuple[str, ...],
    description: str | None,
    version: str | None,
    catchup: str,
    concurrency_limit: int | None,
    paused: bool,
    deploy_all: bool,
    config: Path | None,
    as_json: bool,
) -> None:
    """Deploy a flow: its runs then start by themselves, on its schedules, on the
    workers of a work pool (created if it does not exist).

    ENTRYPOINT is path/to/file.py:flow_function or module:flow_function, relative to
    the current folder. Deploying again with the same name updates the deployment.
    Without ENTRYPOINT, deploys from cadenza.yaml: every deployment with --all, or the
    one given with --name.

    \b
    Examples:
        cadenza deploy flows/train.py:monthly_training --name monthly --pool training \\
            --cron "0 9 3 * *" --timezone Europe/Zurich --param year=2024
        cadenza deploy --all
    """
    from cadenza.cli.output import echo_json
    from cadenza.deploy.serialize import deployment_json

    if entrypoint is None:
        deployed = _deploy_from_config(config, name, deploy_all)
    else:
        if deploy_all:
            raise CliError("Give an ENTRYPOINT or --all, not both.")
        if not name or not pool:
            raise CliError("Give the deployment's --name and its work --pool.")
        schedules = _schedules(cron, interval, rrule, timezone, anchor_date)
        deployed = [
            _deploy_entrypoint(
                entrypoint,
                name,
                pool,
                queue,
                schedules,
                params,
                tags=tags,
                description=description,
                version=version,
                catchup=catchup,
                concurrency_limit=concurrency_limit,
                paused=paused,
            )
        ]
    if as_json:
        echo_json([deployment_json(d) for d in deployed])
        return
    for d in deployed:
        when = ", ".join(s.schedule.describe() for s in d.schedules) or "no schedule"
        state = " (paused)" if d.paused else ""
        click.echo(f"Deployed {d.full_name} on work pool {d.work_pool_name!r}: {when}{state}.")
    click.echo(
        "Start a worker with `cadenza worker start --pool POOL`; run one now with "
        f"`cadenza deployment run {deployed[0].full_name}`."
    )


def _schedules(
    cron: tuple[str, ...],
    interval: tuple[str, ...],
    rrule: tuple[str, ...],
    timezone: str | None,
    anchor_date: str | None,
) -> list[DeploymentSchedule]:
    import datetime as dt

    from cadenza.deploy.deployments import schedules_from_options
    from cadenza.utilities.durations import parse_duration

    anchor = None
    if anchor_date:
        try:
            anchor = dt.datetime.fromisoformat(anchor_date)
        except ValueError:
            raise CliError(f"--anchor-date {anchor_date!r} is not an ISO date-time.") from None
    return schedules_from_options(
        cron=list(cron),
        interval=[parse_duration(v, what="--interval") for v in interval],
        rrule=list(rrule),
        timezone=timezone,
        anchor_date=anchor,
    )


def _deploy_entrypoint(
    entrypoint: str,
    name: str,
    pool: str,
    queue: str,
    schedules: list[DeploymentSchedule],
    params: tuple[str, ...],
    *,
    tags: tuple[str, ...],
    description: str | None,
    version: str | None,
    catchup: str,
    concurrency_limit: int | None,
    paused: bool,
) -> Deployment:
    from cadenza.deploy.config import load_deploy_flow
    from cadenza.deploy.deployments import build_deployment, save_and_schedule
    from cadenza.deploy.parameters import parse_assignments

    folder = Path.cwd()
    flow = load_deploy_flow(entrypoint, folder)
    deployment = build_deployment(
        flow,
        name,
        work_pool_name=pool,
        work_queue_name=queue,
        entrypoint=entrypoint,
        path=folder,
        schedules=schedules,
        parameters=parse_assignments(params),
        tags=tags,
        description=description,
        version=version,
        paused=paused,
        concurrency_limit=concurrency_limit,
        catchup=catchup,
    )
    return save_and_schedule(deployment)


def _deploy_from_config(
    config: Path | None, name: str | None, deploy_all: bool
) -> list[Deployment]:
    from cadenza.deploy.config import FILE_NAME, deploy_spec, find_config, load_config

    if not deploy_all and not name:
        raise CliError(
            "Give an ENTRYPOINT to deploy (with --name and --pool), or --all to deploy every "
            f"deployment of {FILE_NAME}, or --name to deploy one of them."
        )
    path = config or find_config()
    if path is None:
        raise CliError(f"There is no {FILE_NAME} in this folder or above it; give --file.")
    specs = load_config(path)
    if name and not deploy_all:
        specs = [s for s in specs if s.name == name]
        if not specs:
            names = ", ".join(s.name for s in load_config(path)) or "none"
            raise CliError(f"{path} has no deployment named {name!r}; it has: {names}.")
    return [deploy_spec(s) for s in specs]
