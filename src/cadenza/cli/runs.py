"""``cadenza runs``: list flow runs, show one run's tree, print its logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.runs import FlowRun
    from cadenza.states import StateType
    from cadenza.store.base import FlowRunFilter, RunStore

_JSON_HELP = "Print JSON instead of a table."
_STATE_NAMES = ("Late", "AwaitingRetry", "Retrying", "Cached", "TimedOut")
"""State names accepted by ``--state`` besides the state types."""


@click.group("runs")
def runs() -> None:
    """List flow runs and inspect one run: its task runs, states and logs."""


def parse_states(values: Sequence[str]) -> tuple[list[StateType], list[str]]:
    """Split ``--state`` values into state types and state names.

    Each value may hold several, separated by commas; case and ``-``/``_`` do not
    matter (``failed``, ``timed-out``, ``Cached``).

    Raises:
        CliError: a value is neither a state type nor a known state name.
    """
    from cadenza.states import StateType

    names = {n.upper(): n for n in _STATE_NAMES}
    types: list[StateType] = []
    found: list[str] = []
    for value in values:
        for part in value.split(","):
            key = part.strip().upper().replace("-", "").replace("_", "")
            if not key:
                continue
            if key in StateType.__members__:
                types.append(StateType[key])
            elif key in names:
                found.append(names[key])
            else:
                allowed = ", ".join(
                    [t.value.lower() for t in StateType] + [n.lower() for n in _STATE_NAMES]
                )
                raise CliError(f"--state {part.strip()!r} is not a state; use one of {allowed}.")
    return types, found


def _query(
    store: RunStore,
    base: FlowRunFilter,
    types: list[StateType],
    names: list[str],
    limit: int,
) -> tuple[list[FlowRun], int]:
    """Runs matching ``base`` and any of the states; also their total."""
    import dataclasses

    # A run matches when its state's type is one of ``types`` or its name one of ``names``.
    flt = dataclasses.replace(base, state_types=types or None, state_names=names or None)
    found = store.list_flow_runs(flt, limit=limit)
    total = store.count_flow_runs(flt) if len(found) >= limit else len(found)
    return found, total


@runs.command("ls")
@click.option("--flow", "flow_name", metavar="NAME", help="Only runs of this flow.")
@click.option(
    "--state",
    "states",
    multiple=True,
    metavar="STATE",
    help="Only runs in this state: a type (failed, completed, running...) or a name "
    "(cached, timedout...). Repeat for any of several.",
)
@click.option(
    "--since",
    metavar="WHEN",
    help="Only runs created since: a span back from now (30m, 1h, 2d, 1w) or a date "
    "(2026-01-31, local time).",
)
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Only runs with this tag (repeat: all)."
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="Show at most this many runs.",
)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def ls_command(
    flow_name: str | None,
    states: tuple[str, ...],
    since: str | None,
    tags: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """List flow runs, newest first.

    Columns: short id, flow, run name, state, start time (local), duration, tags.
    The short id is enough for `cadenza runs show`.

    \b
    Example:
        cadenza runs ls --flow train --state failed --since 2d
    """
    from cadenza.cli.lookup import open_store
    from cadenza.cli.output import parse_since
    from cadenza.store.base import FlowRunFilter

    types, names = parse_states(states)
    base = FlowRunFilter(
        flow_name=flow_name,
        tags=list(tags) or None,
        since=None if since is None else parse_since(since),
    )
    store = open_store()
    found, total = ([], 0) if store is None else _query(store, base, types, names, limit)
    if as_json:
        from cadenza.cli.output import echo_json
        from cadenza.cli.serialize import flow_run_json

        echo_json([flow_run_json(r) for r in found])
        return
    filtered = bool(flow_name or states or since or tags)
    _print_runs(store, found, total, filtered)


def _print_runs(store: RunStore | None, found: list[FlowRun], total: int, filtered: bool) -> None:
    from rich.table import Table

    from cadenza.cli.lookup import short_ids
    from cadenza.cli.output import console, local_time, print_block, run_duration, state_text

    out = console()
    if store is None or not found:
        if filtered:
            out.print("No flow runs match these filters.")
        else:
            out.print("No flow runs yet: run a flow, then list its runs here.")
        return
    short = short_ids(store, [r.id for r in found])
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("ID", "FLOW", "NAME", "STATE", "START", "DURATION", "TAGS"):
        table.add_column(title, no_wrap=True)
    for r in found:
        table.add_row(
            short[r.id],
            r.flow_name,
            r.name,
            state_text(r.state),
            local_time(r.start_time),
            run_duration(r.start_time, r.end_time, r.state),
            ", ".join(r.tags),
        )
    print_block(out, table)
    if total > len(found):
        out.print(f"Showing {len(found)} of {total} runs; use --limit to see more.", style="dim")


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show_command(run_id: str, as_json: bool) -> None:
    """Show a flow run: its header, state history and tree of task runs and subflows.

    RUN_ID may be the first characters of the id, as long as they name one run.
    Given a task run's id, show that task run: its inputs, state history and logs.

    \b
    Example:
        cadenza runs show 01a209c0-1a4
    """
    from cadenza.cli import show
    from cadenza.cli.lookup import find_run, require_store
    from cadenza.runs import FlowRun

    store = require_store(run_id)
    run = find_run(store, run_id)
    if isinstance(run, FlowRun):
        show.show_flow_run(store, run, as_json=as_json)
    else:
        show.show_task_run(store, run, as_json=as_json)


@runs.command("logs")
@click.argument("run_id")
@click.option(
    "--level",
    default=None,
    metavar="LEVEL",
    help="Only lines at this level or above (DEBUG, INFO, WARNING, ERROR or a number).",
)
@click.option(
    "--task", "task_id", default=None, metavar="TASK_RUN_ID", help="Only this task run's lines."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run ends.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per line (JSON Lines)."
)
@click.option(
    "--poll-interval",
    default=0.5,
    type=click.FloatRange(min=0.01),
    hidden=True,
    help="Seconds between two reads with --follow.",
)
def logs_command(
    run_id: str,
    level: str | None,
    task_id: str | None,
    follow: bool,
    as_json: bool,
    poll_interval: float,
) -> None:
    """Print the log lines of a run in the order they were written.

    Each line shows its time, level and the task run (or flow run) that wrote it;
    lines of subflow runs are included. RUN_ID may be a flow run's or a task
    run's id, or the first characters of one.

    \b
    Example:
        cadenza runs logs 01a209c0-1a4 --level WARNING --follow
    """
    from cadenza.cli import logs
    from cadenza.cli.lookup import find_run, find_task_run, require_store
    from cadenza.cli.output import parse_level
    from cadenza.runs import FlowRun

    min_level = 0 if level is None else parse_level(level)
    store = require_store(run_id)
    run = find_run(store, run_id)
    task = find_task_run(store, task_id) if task_id else None
    if isinstance(run, FlowRun):
        if task is not None and not logs.belongs_to(store, task, run):
            raise CliError(
                f"Task run {task.name!r} ({task.id}) is not part of flow run {run.name!r} "
                f"({run.id}); see `cadenza runs show {run.id}` for its task runs."
            )
        root = run
    else:
        if task is not None and task.id != run.id:
            raise CliError(
                f"{run_id!r} is task run {run.name!r}; --task must be that task run or "
                "be given with a flow run id."
            )
        task = run
        parent = store.read_flow_run(run.flow_run_id) if run.flow_run_id else None
        if parent is None:
            raise CliError(f"Task run {run.name!r} ({run.id}) has no flow run; it has no logs.")
        root = parent
    logs.print_logs(
        store,
        root,
        task=task,
        min_level=min_level,
        follow=follow,
        as_json=as_json,
        poll_interval=poll_interval,
    )


def _register() -> None:
    from cadenza.cli.cancel import cancel_command
    from cadenza.cli.retry import retry_command

    runs.add_command(retry_command)
    runs.add_command(cancel_command)


_register()
