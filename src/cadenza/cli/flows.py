"""``cadenza flows``: the flows known to the database."""

from __future__ import annotations

import click

from cadenza.cli.output import echo_json


@click.group("flows")
def flows() -> None:
    """List the flows that have runs in the database."""


@flows.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ls_command(as_json: bool) -> None:
    """List flows by name with their run count, last run time and last state.

    \b
    Example:
        cadenza flows ls
    """
    from cadenza.cli.lookup import open_store
    from cadenza.cli.serialize import flow_json

    store = open_store()
    records = [] if store is None else store.list_flows()
    if as_json:
        echo_json([flow_json(r) for r in records])
        return

    from rich.table import Table

    from cadenza.cli.output import console, local_time, print_block, state_text

    out = console()
    if not records:
        out.print("No flows yet: run a flow, then list its runs with `cadenza runs ls`.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("FLOW", no_wrap=True)
    table.add_column("RUNS", justify="right")
    table.add_column("LAST RUN", no_wrap=True)
    table.add_column("LAST STATE", no_wrap=True)
    for record in records:
        table.add_row(
            record.name,
            str(record.run_count),
            local_time(record.last_run_created),
            state_text(record.last_state),
        )
    print_block(out, table)
