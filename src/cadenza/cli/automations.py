"""``cadenza automation``: when flow runs enter states, notify channels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.notify.automations import Automation, Trigger


@click.group("automation")
def automation() -> None:
    """Create, list, enable, disable and delete automations; see what they sent."""


@automation.command("create")
@click.argument("name")
@click.option(
    "--on",
    "states",
    multiple=True,
    metavar="EVENT",
    help="An event to react to: Failed, Crashed, Completed, Cancelled, TimedOut, Late, "
    "Recovered... (repeat, or separate with commas).",
)
@click.option(
    "--not-completed-within",
    "within",
    metavar="DURATION",
    help="Instead of --on: a scheduled run has not completed this long (6h, 30m) after "
    "its scheduled time.",
)
@click.option(
    "--notify", "channels", multiple=True, required=True, metavar="CHANNEL", help="A channel."
)
@click.option("--flow", "flows", multiple=True, metavar="NAME", help="Only runs of this flow.")
@click.option(
    "--deployment",
    "deployments",
    multiple=True,
    metavar="NAME",
    help="Only runs of this deployment (flow/name or name).",
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only runs with this tag.")
@click.option("--subject", metavar="TEMPLATE", help="A Jinja2 template of the subject.")
@click.option("--body", metavar="TEMPLATE", help="A Jinja2 template of the body.")
@click.option("--description", help="Shown in listings.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@click.option("--replace", is_flag=True, help="Replace an automation of the same name.")
@click.option("--json", "as_json", is_flag=True, help="Print the automation as JSON.")
def create_command(
    name: str,
    states: tuple[str, ...],
    within: str | None,
    channels: tuple[str, ...],
    flows: tuple[str, ...],
    deployments: tuple[str, ...],
    tags: tuple[str, ...],
    subject: str | None,
    body: str | None,
    description: str | None,
    disabled: bool,
    replace: bool,
    as_json: bool,
) -> None:
    """Create an automation NAME: when a flow run enters one of the --on events (or is
    not completed in time), notify the channels.

    \b
    Examples:
        cadenza automation create training-alerts --on Failed --on Crashed \\
            --on Recovered --flow train --notify ops-email
        cadenza automation create nightly-late --not-completed-within 6h \\
            --deployment etl/nightly --notify team-slack
    """
    from cadenza.notify.api import notification_store
    from cadenza.notify.automations import Automation, FlowRunStateTrigger, NotCompletedTrigger
    from cadenza.notify.runtime import forget_automations_cache

    if bool(states) == bool(within):
        raise CliError("Give the events to react to with --on, or --not-completed-within.")
    filters: dict[str, Any] = {"flows": flows, "deployments": deployments, "tags": tags}
    trigger: Trigger
    if within:
        from cadenza.utilities.durations import parse_duration

        seconds = parse_duration(within, what="--not-completed-within")
        trigger = NotCompletedTrigger(seconds, **filters)
    else:
        events = [e for s in states for e in s.replace(",", " ").split()]
        trigger = FlowRunStateTrigger(events, **filters)
    made = Automation(
        name,
        trigger,
        list(channels),
        subject=subject,
        body=body,
        enabled=not disabled,
        description=description,
    )
    stored = notification_store().create_automation(made, replace=replace)
    forget_automations_cache()
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json(stored.to_dict())
        return
    click.echo(
        f"{'Replaced' if replace else 'Created'} automation {stored.name}: {_summary(stored)}"
    )


def _summary(a: Automation) -> str:
    text: str = a.to_dict()["summary"]
    return text + ("" if a.enabled else " (disabled)")


@automation.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ls_command(as_json: bool) -> None:
    """List the automations."""
    from cadenza.notify.api import list_automations

    found = list_automations()
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json([a.to_dict() for a in found])
        return
    if not found:
        click.echo("No automations yet: create one with `cadenza automation create`.")
        return
    from rich.table import Table

    from cadenza.cli.output import console, print_block

    table = Table(box=None, pad_edge=False)
    for column in ("NAME", "ENABLED", "WHEN", "NOTIFY"):
        table.add_column(column)
    for a in found:
        table.add_row(
            a.name, "yes" if a.enabled else "no", a.trigger.describe(), ", ".join(a.channels)
        )
    print_block(console(), table)


@automation.command("inspect")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def inspect_command(name: str, as_json: bool) -> None:
    """Show an automation: its trigger, channels and templates."""
    from cadenza.notify.api import get_automation

    found = get_automation(name)
    data = found.to_dict()
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json(data)
        return
    click.echo(f"{found.name}: {_summary(found)}")
    if found.description:
        click.echo(f"  {found.description}")
    for key in ("subject", "body"):
        click.echo(f"  {key}: {data[key] if data[key] is not None else '(default)'}")


def _toggle(name: str, enabled: bool) -> None:
    from cadenza.notify.api import disable_automation, enable_automation

    (enable_automation if enabled else disable_automation)(name)
    click.echo(f"{'Enabled' if enabled else 'Disabled'} automation {name}.")


@automation.command("enable")
@click.argument("name")
def enable_command(name: str) -> None:
    """Enable an automation."""
    _toggle(name, True)


@automation.command("disable")
@click.argument("name")
def disable_command(name: str) -> None:
    """Disable an automation: it does nothing until enabled again."""
    _toggle(name, False)


@automation.command("delete")
@click.argument("name")
def delete_command(name: str) -> None:
    """Delete an automation (what it sent stays in the history)."""
    from cadenza.notify.api import delete_automation

    delete_automation(name)
    click.echo(f"Deleted automation {name}.")


@automation.command("history")
@click.argument("name", required=False)
@click.option("--channel", help="Only messages to this channel.")
@click.option("--flow-run", "flow_run_id", metavar="RUN_ID", help="Only about this flow run.")
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--attempts", is_flag=True, help="Show every delivery attempt and its error.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def history_command(
    name: str | None,
    channel: str | None,
    flow_run_id: str | None,
    status: str | None,
    limit: int,
    attempts: bool,
    as_json: bool,
) -> None:
    """What was sent, what waits for a retry and what failed, newest first (of the
    automation NAME, or of every automation and hook).

    \b
    Examples:
        cadenza automation history
        cadenza automation history training-alerts --status failed --attempts
    """
    from cadenza.notify.api import delivery_attempts, delivery_history

    found = delivery_history(
        automation=name, channel=channel, flow_run_id=flow_run_id, status=status, limit=limit
    )
    if as_json:
        from cadenza.cli.output import echo_json

        out = []
        for message in found:
            item = message.public()
            if attempts:
                item["attempts_history"] = [a.public() for a in delivery_attempts(message.id)]
            out.append(item)
        echo_json(out)
        return
    if not found:
        click.echo("Nothing was sent yet.")
        return
    from rich.table import Table

    from cadenza.cli.output import console, local_time, one_line, print_block

    table = Table(box=None, pad_edge=False)
    for column in ("QUEUED", "STATUS", "TRIES", "CHANNEL", "EVENT", "FROM", "SUBJECT", "ERROR"):
        table.add_column(column)
    for m in found:
        table.add_row(
            local_time(m.created),
            m.status,
            str(m.attempts),
            m.channel,
            m.event,
            m.automation_name or m.source,
            one_line(m.subject, 60),
            one_line(m.last_error, 80) if m.last_error else "",
        )
    out_console = console()
    print_block(out_console, table)
    if attempts:
        for m in found:
            for a in delivery_attempts(m.id):
                result = "ok" if a.ok else f"failed: {a.error}"
                click.echo(
                    f"{m.id[:13]} attempt {a.attempt} at {local_time(a.timestamp)}: {result}"
                )
