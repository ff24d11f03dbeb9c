"""``cadenza work-pool``: create, list, inspect, pause and resume work pools and their queues."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cadenza.cli.deployment import deployment_store
from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.deploy.pools import WorkPool
    from cadenza.store.deploy_base import DeploymentStore

_JSON = "Print JSON instead of text."


@click.group("work-pool")
def work_pool() -> None:
    """Work pools: where the runs of deployments wait for a worker, in queues."""


def _limit(value: str | None) -> int | None:
    """A concurrency limit option: a number, or ``none`` for no limit."""
    if value is None or value.strip().lower() in ("none", ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise CliError(f"A concurrency limit is a whole number or 'none', got {value!r}.") from None
    if number < 0:
        raise CliError(f"A concurrency limit must be 0 or more, got {number}.")
    return number


def _pool(store: DeploymentStore, name: str) -> WorkPool:
    found = store.read_work_pool(name)
    if found is None:
        names = ", ".join(p.name for p in store.list_work_pools()) or "none yet"
        raise CliError(
            f"There is no work pool {name!r}. Work pools: {names}. "
            f"Create it with `cadenza work-pool create {name}`."
        )
    return found


@work_pool.command("create")
@click.argument("name")
@click.option("--description", metavar="TEXT")
@click.option("--concurrency-limit", metavar="N", help="Runs of the pool active at once at most.")
@click.option("--paused", is_flag=True, help="Create it paused (its workers take no runs).")
def create_command(
    name: str, description: str | None, concurrency_limit: str | None, paused: bool
) -> None:
    """Create a work pool, with its queue named default.

    \b
    Example:
        cadenza work-pool create training --concurrency-limit 4
    """
    from cadenza.deploy.pools import WorkPool

    store = deployment_store()
    pool = store.create_work_pool(
        WorkPool(
            name,
            description=description,
            concurrency_limit=_limit(concurrency_limit),
            paused=paused,
        )
    )
    click.echo(
        f"Created work pool {pool.name!r}. Start a worker: cadenza worker start --pool {name}"
    )


@work_pool.command("ls")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def ls_command(as_json: bool) -> None:
    """List work pools with their limit, status and number of deployments.

    \b
    Example:
        cadenza work-pool ls
    """
    from cadenza.cli.output import console, echo_json, print_block
    from cadenza.deploy.serialize import pool_json

    store = deployment_store()
    pools = store.list_work_pools()
    if as_json:
        echo_json([pool_json(p) for p in pools])
        return
    out = console()
    if not pools:
        out.print("No work pools yet: create one with `cadenza work-pool create NAME`.")
        return
    from rich.table import Table

    counts: dict[str, int] = {}
    for d in store.list_deployments():
        counts[d.work_pool_name] = counts.get(d.work_pool_name, 0) + 1
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("POOL", "STATUS", "LIMIT", "DEPLOYMENTS", "DESCRIPTION"):
        table.add_column(title, no_wrap=True)
    for p in pools:
        table.add_row(
            p.name,
            "paused" if p.paused else "active",
            "-" if p.concurrency_limit is None else str(p.concurrency_limit),
            str(counts.get(p.name, 0)),
            p.description or "",
        )
    print_block(out, table)


@work_pool.command("inspect")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def inspect_command(name: str, as_json: bool) -> None:
    """Show a work pool, its queues in priority order and its deployments.

    \b
    Example:
        cadenza work-pool inspect training
    """
    from cadenza.cli.output import echo_json
    from cadenza.deploy.serialize import pool_json, queue_json

    store = deployment_store()
    pool = _pool(store, name)
    queues = store.list_work_queues(name)
    deployments = store.list_deployments(work_pool_name=name)
    waiting = store.list_scheduled_flow_runs(work_pool_name=name, limit=1000)
    if as_json:
        echo_json(
            {
                **pool_json(pool),
                "queues": [queue_json(q) for q in queues],
                "deployments": [d.full_name for d in deployments],
                "scheduled_runs": len(waiting),
            }
        )
        return
    limit = "none" if pool.concurrency_limit is None else str(pool.concurrency_limit)
    click.echo(f"Work pool:   {pool.name} ({'paused' if pool.paused else 'active'})")
    click.echo(f"Limit:       {limit}")
    if pool.description:
        click.echo(f"Description: {pool.description}")
    click.echo(f"Scheduled:   {len(waiting)} run(s) waiting")
    click.echo("Queues (priority order):")
    for q in queues:
        extra = [] if q.concurrency_limit is None else [f"limit {q.concurrency_limit}"]
        if q.paused:
            extra.append("paused")
        click.echo(f"  {q.priority:>3}  {q.name}" + (f" ({', '.join(extra)})" if extra else ""))
    click.echo("Deployments:")
    for d in deployments:
        click.echo(f"  {d.full_name} (queue {d.work_queue_name})")
    if not deployments:
        click.echo("  none")


def _set_paused(name: str, paused: bool) -> None:
    store = deployment_store()
    _pool(store, name)
    store.update_work_pool(name, paused=paused)
    click.echo(f"{'Paused' if paused else 'Resumed'} work pool {name!r}.")


@work_pool.command("pause")
@click.argument("name")
def pause_command(name: str) -> None:
    """Pause a work pool: its workers take no runs until it is resumed.

    \b
    Example:
        cadenza work-pool pause training
    """
    _set_paused(name, True)


@work_pool.command("resume")
@click.argument("name")
def resume_command(name: str) -> None:
    """Resume a paused work pool.

    \b
    Example:
        cadenza work-pool resume training
    """
    _set_paused(name, False)


@work_pool.command("update")
@click.argument("name")
@click.option("--description", metavar="TEXT")
@click.option("--concurrency-limit", metavar="N", help="A number, or none for no limit.")
def update_command(name: str, description: str | None, concurrency_limit: str | None) -> None:
    """Change a work pool's description or concurrency limit.

    \b
    Example:
        cadenza work-pool update training --concurrency-limit none
    """
    from cadenza.store.deploy_base import UNSET

    store = deployment_store()
    _pool(store, name)
    store.update_work_pool(
        name,
        description=UNSET if description is None else description,
        concurrency_limit=UNSET if concurrency_limit is None else _limit(concurrency_limit),
    )
    click.echo(f"Updated work pool {name!r}.")


@work_pool.group("queue")
def queue() -> None:
    """The queues of a work pool (a worker takes runs of priority 1 first)."""


@queue.command("create")
@click.argument("pool")
@click.argument("name")
@click.option("--priority", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--concurrency-limit", metavar="N")
@click.option("--description", metavar="TEXT")
def queue_create_command(
    pool: str, name: str, priority: int, concurrency_limit: str | None, description: str | None
) -> None:
    """Create a queue in a work pool.

    \b
    Example:
        cadenza work-pool queue create training urgent --priority 1
    """
    from cadenza.deploy.pools import WorkQueue

    store = deployment_store()
    store.create_work_queue(
        WorkQueue(
            pool,
            name,
            priority=priority,
            concurrency_limit=_limit(concurrency_limit),
            description=description,
        )
    )
    click.echo(f"Created queue {name!r} in work pool {pool!r} (priority {priority}).")


@queue.command("ls")
@click.argument("pool")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def queue_ls_command(pool: str, as_json: bool) -> None:
    """List the queues of a work pool in priority order.

    \b
    Example:
        cadenza work-pool queue ls training
    """
    from cadenza.cli.output import echo_json
    from cadenza.deploy.serialize import queue_json

    queues = deployment_store().list_work_queues(pool)
    if as_json:
        echo_json([queue_json(q) for q in queues])
        return
    for q in queues:
        limit = "-" if q.concurrency_limit is None else str(q.concurrency_limit)
        status = "paused" if q.paused else "active"
        click.echo(f"{q.priority:>3}  {q.name:<20} {status:<7} limit {limit}")


@queue.command("update")
@click.argument("pool")
@click.argument("name")
@click.option("--priority", type=click.IntRange(min=1))
@click.option("--concurrency-limit", metavar="N", help="A number, or none for no limit.")
@click.option("--pause/--resume", "paused", default=None, help="Pause or resume the queue.")
def queue_update_command(
    pool: str, name: str, priority: int | None, concurrency_limit: str | None, paused: bool | None
) -> None:
    """Change a queue's priority, concurrency limit, or pause or resume it.

    \b
    Example:
        cadenza work-pool queue update training urgent --concurrency-limit 2
    """
    from cadenza.store.deploy_base import UNSET

    deployment_store().update_work_queue(
        pool,
        name,
        priority=UNSET if priority is None else priority,
        concurrency_limit=UNSET if concurrency_limit is None else _limit(concurrency_limit),
        paused=UNSET if paused is None else paused,
    )
    click.echo(f"Updated queue {name!r} of work pool {pool!r}.")
