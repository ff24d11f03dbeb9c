"""``cadenza runs retry``: resume a failed flow run from where it failed."""

from __future__ import annotations

import click

from cadenza.cli.output import CliError


@click.command("retry")
@click.argument("run_id")
@click.option(
    "--entrypoint",
    help="Where the flow lives (path/file.py:function or module:function), when the "
    "run did not record it or the code moved.",
)
def retry_command(run_id: str, entrypoint: str | None) -> None:
    """Resume a failed, crashed or cancelled flow run as a new attempt of the same run.

    Task runs that completed and persisted their results are not run again (they
    come back Cached); execution continues from the first task that failed. The
    flow is imported from the entrypoint recorded with the run. Exits with 1 if
    the resumed run fails again.

    \b
    Example:
        cadenza runs retry 01a209c0-1a4
    """
    from cadenza.cli.lookup import find_run, require_store
    from cadenza.runs import FlowRun
    from cadenza.utilities.entrypoints import load_flow

    store = require_store(run_id)
    run = find_run(store, run_id)
    if not isinstance(run, FlowRun):
        raise CliError(f"{run_id} is a task run; give the id of its flow run ({run.flow_run_id}).")
    target = entrypoint or run.entrypoint
    if not target:
        raise CliError(
            f"Flow run {run.name!r} did not record where its flow lives (a flow defined "
            "inside a function?). Give it with --entrypoint path/file.py:function."
        )
    flow = load_flow(target)
    state = flow.retry(run.id, return_state=True)
    if not state.is_completed():
        raise CliError(f"Flow run {run.name!r} ended {state.name} again: {state.message}")
    click.echo(f"Flow run {run.name!r} ({run.id}) resumed and completed.")
