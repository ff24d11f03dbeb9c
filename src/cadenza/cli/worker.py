"""``cadenza worker``: start a worker of a work pool, list the workers."""

from __future__ import annotations

import click

from cadenza.cli.deployment import deployment_store


@click.group("worker")
def worker() -> None:
    """Workers: processes that run the runs of deployments of a work pool."""


@worker.command("start")
@click.option("--pool", "pool_name", required=True, metavar="NAME", help="The work pool.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="Only runs of this queue of the pool (repeat for several; all by default).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Runs at once at most.")
@click.option("--name", help="The worker's name in listings (default: host:pid).")
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="On Ctrl-C or SIGTERM, how long the runs in progress may take to finish before "
    "they are stopped and handed back to the pool.",
)
def start_command(
    pool_name: str,
    queues: tuple[str, ...],
    limit: int | None,
    name: str | None,
    shutdown_timeout: float,
) -> None:
    """Start a worker: it runs the due runs of a work pool, each in a subprocess.

    It runs until Ctrl-C or SIGTERM: then it takes no more runs, lets those in
    progress finish (up to --shutdown-timeout), and hands the others back to the
    pool. Without CADENZA_API_URL it works on the local database and also runs the
    scheduler and the crash monitor there.

    \b
    Examples:
        cadenza worker start --pool training
        cadenza worker start --pool training --queue urgent --limit 2
    """
    from cadenza.deploy.worker import Worker
    from cadenza.logging.loggers import setup_logging

    setup_logging()
    store = deployment_store()
    Worker(
        pool_name,
        queues=list(queues) or None,
        limit=limit,
        name=name,
        store=store,
        shutdown_timeout=shutdown_timeout,
    ).start()


@worker.command("ls")
@click.option("--pool", "pool_name", metavar="NAME", help="Only the workers of this pool.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def ls_command(pool_name: str | None, as_json: bool) -> None:
    """List workers with their pool, host and last heartbeat.

    A worker is online when its last heartbeat is within CADENZA_HEARTBEAT_TIMEOUT.

    \b
    Example:
        cadenza worker ls --pool training
    """
    import time

    from cadenza.cli.lookup import load_settings
    from cadenza.cli.output import console, echo_json, print_block
    from cadenza.deploy.records import worker_json
    from cadenza.utilities.formatting import format_duration

    timeout = load_settings().heartbeat_timeout
    store = deployment_store()
    found = store.list_workers(pool_name=pool_name)
    now = time.time()
    if as_json:
        echo_json([worker_json(w, now, timeout) for w in found])
        return
    out = console()
    if not found:
        out.print("No workers: start one with `cadenza worker start --pool NAME`.")
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("WORKER", "POOL", "STATUS", "HOST", "PID", "LAST HEARTBEAT"):
        table.add_column(title, no_wrap=True)
    for w in found:
        table.add_row(
            w.name,
            w.pool_name,
            "online" if w.is_online(now, timeout) else "offline",
            w.hostname or "-",
            str(w.pid or "-"),
            f"{format_duration(max(now - w.last_heartbeat, 0))} ago",
        )
    print_block(out, table)
