"""``cadenza concurrency-limit``: limits on the task runs of a tag running at once."""

from __future__ import annotations

import click

from cadenza.cli.deployment import deployment_store
from cadenza.cli.output import CliError

_JSON = "Print JSON instead of text."


@click.group("concurrency-limit")
def concurrency_limit() -> None:
    """Concurrency limits by tag: at most N task runs with the tag run at once,
    across every process recording to this database or server."""


@concurrency_limit.command("create")
@click.argument("tag")
@click.argument("limit", type=int)
def create_command(tag: str, limit: int) -> None:
    """Set the limit of a tag (create it, or change it).

    Task runs with the tag wait for a free slot before they run. A limit of 0 fails
    them at once.

    \b
    Example:
        cadenza concurrency-limit create gpu 2
    """
    found = deployment_store().set_concurrency_limit(tag, limit)
    click.echo(
        f"Task runs tagged {found.tag!r}: at most {found.limit} at once "
        f"({found.active} running now)."
    )


@concurrency_limit.command("ls")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def ls_command(as_json: bool) -> None:
    """List the concurrency limits with the slots held now.

    \b
    Example:
        cadenza concurrency-limit ls
    """
    from cadenza.cli.output import console, echo_json, print_block
    from cadenza.deploy.records import limit_json

    limits = deployment_store().list_concurrency_limits()
    if as_json:
        echo_json([limit_json(x) for x in limits])
        return
    out = console()
    if not limits:
        out.print("No concurrency limits: set one with `cadenza concurrency-limit create TAG N`.")
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("TAG", "LIMIT", "ACTIVE"):
        table.add_column(title, no_wrap=True)
    for x in limits:
        table.add_row(x.tag, str(x.limit), str(x.active))
    print_block(out, table)


@concurrency_limit.command("inspect")
@click.argument("tag")
@click.option("--json", "as_json", is_flag=True, help=_JSON)
def inspect_command(tag: str, as_json: bool) -> None:
    """Show the limit of a tag and the task runs holding its slots.

    \b
    Example:
        cadenza concurrency-limit inspect gpu
    """
    from cadenza.cli.output import echo_json, local_time
    from cadenza.deploy.concurrency import limit_not_found
    from cadenza.deploy.records import limit_json

    store = deployment_store()
    found = store.read_concurrency_limit(tag)
    if found is None:
        raise limit_not_found(store, tag)
    if as_json:
        echo_json(limit_json(found))
        return
    click.echo(f"Tag:     {found.tag}")
    click.echo(f"Limit:   {found.limit}")
    click.echo(f"Active:  {found.active}")
    for s in found.slots:
        click.echo(f"  task run {s.holder}  since {local_time(s.acquired)}")


@concurrency_limit.command("delete")
@click.argument("tag")
def delete_command(tag: str) -> None:
    """Remove the limit of a tag (its waiting task runs then run).

    \b
    Example:
        cadenza concurrency-limit delete gpu
    """
    if not deployment_store().delete_concurrency_limit(tag):
        raise CliError(f"Tag {tag!r} has no concurrency limit.")
    click.echo(f"Removed the concurrency limit of tag {tag!r}.")
