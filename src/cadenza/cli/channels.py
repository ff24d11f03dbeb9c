"""``cadenza channel``: notification channels (e-mail over SMTP, webhooks).

Secrets (``--password``, ``--url``, ``--signing-secret``) take ``env:NAME`` (read from
that variable where messages are sent), the value (stored encrypted), or ``-`` to
read the value from standard input, so that it stays out of the shell's history.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.notify.channels import Channel


@click.group("channel")
def channel() -> None:
    """Create, list, test and delete notification channels."""


def _secret(value: str | None, what: str) -> str | None:
    if value != "-":
        return value
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise CliError(f"No {what} on standard input.")
    return text


@channel.command("create")
@click.argument("name")
@click.option(
    "--type", "kind", type=click.Choice(["email", "webhook"]), required=True, help="The kind."
)
@click.option("--host", help="email: the SMTP server.")
@click.option("--port", type=click.IntRange(1, 65535), help="email: its port (587, 465, 25).")
@click.option(
    "--security",
    type=click.Choice(["starttls", "ssl", "none"]),
    default="starttls",
    show_default=True,
    help="email: how the connection is secured.",
)
@click.option("--username", help="email: the SMTP login.")
@click.option("--password", help="email: its password: env:NAME, the value, or - (stdin).")
@click.option("--from", "from_address", metavar="ADDRESS", help="email: the sender.")
@click.option(
    "--to", "to", multiple=True, metavar="ADDRESS", help="email: a recipient (repeat for more)."
)
@click.option("--url", help="webhook: where to post: env:NAME, the URL, or - (stdin).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "slack", "teams"]),
    default="json",
    show_default=True,
    help="webhook: the payload's format.",
)
@click.option(
    "--signing-secret", help="webhook: sign requests with HMAC-SHA256: env:NAME, value or -."
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait.")
@click.option("--replace", is_flag=True, help="Replace a channel of the same name.")
@click.option("--json", "as_json", is_flag=True, help="Print the channel as JSON.")
def create_command(
    name: str,
    kind: str,
    host: str | None,
    port: int | None,
    security: str,
    username: str | None,
    password: str | None,
    from_address: str | None,
    to: tuple[str, ...],
    url: str | None,
    fmt: str,
    signing_secret: str | None,
    timeout: float | None,
    replace: bool,
    as_json: bool,
) -> None:
    """Create a channel NAME, used by automations and notify("NAME") hooks.

    \b
    Examples:
        cadenza channel create ops-email --type email --host smtp.example.com \\
            --username cadenza --password env:SMTP_PASSWORD \\
            --from cadenza@example.com --to ops@example.com
        cadenza channel create team-slack --type webhook --format slack \\
            --url env:SLACK_WEBHOOK_URL
    """
    from cadenza.notify.api import create_channel
    from cadenza.notify.channels import EmailChannel, WebhookChannel

    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    made: Channel
    if kind == "email":
        missing = [
            o for o, v in (("--host", host), ("--from", from_address), ("--to", to)) if not v
        ]
        if missing:
            raise CliError(f"An email channel needs {', '.join(missing)}.")
        made = EmailChannel(
            name,
            host=host or "",
            port=port,
            security=security,
            username=username,
            password=_secret(password, "password"),
            from_address=from_address or "",
            to=list(to),
            **extra,
        )
    else:
        secret_url = _secret(url, "URL")
        if not secret_url:
            raise CliError("A webhook channel needs --url (env:NAME, the URL, or -).")
        made = WebhookChannel(
            name,
            url=secret_url,
            format=fmt,
            signing_secret=_secret(signing_secret, "signing secret"),
            **extra,
        )
    stored = create_channel(made, replace=replace)
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json(stored.public())
        return
    click.echo(f"{'Replaced' if replace else 'Created'} channel {stored.name}: {stored.summary()}")


@channel.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ls_command(as_json: bool) -> None:
    """List the channels. Secrets show as •••• (a stored value) or env:NAME.

    \b
    Example:
        cadenza channel ls
    """
    from cadenza.notify.api import list_channels

    found = list_channels()
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json([c.public() for c in found])
        return
    if not found:
        click.echo("No channels yet: create one with `cadenza channel create`.")
        return
    from rich.table import Table

    from cadenza.cli.output import console, print_block

    table = Table(box=None, pad_edge=False)
    for column in ("NAME", "TYPE", "WHERE"):
        table.add_column(column)
    for c in found:
        table.add_row(c.name, c.type, c.summary())
    print_block(console(), table)


@channel.command("inspect")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def inspect_command(name: str, as_json: bool) -> None:
    """Show a channel's settings (never its secrets' values)."""
    from cadenza.notify.api import get_channel

    found = get_channel(name).public()
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json(found)
        return
    click.echo(f"{found['name']} ({found['type']}): {found['summary']}")
    for key, value in found["config"].items():
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"  {key}: {shown if shown is not None else '-'}")
    for key, info in found["secrets"].items():
        click.echo(f"  {key}: {info['display']}")


@channel.command("delete")
@click.argument("name")
def delete_command(name: str) -> None:
    """Delete a channel (refused while automations notify it)."""
    from cadenza.notify.api import delete_channel

    delete_channel(name)
    click.echo(f"Deleted channel {name}.")


@channel.command("test")
@click.argument("name")
@click.option("--subject", default="cadenza test message", show_default=True)
@click.option("--body", default="This is a test message from cadenza: the channel works.")
def test_command(name: str, subject: str, body: str) -> None:
    """Send a test message through a channel now; exit code 1 if it failed.

    \b
    Example:
        cadenza channel test ops-email
    """
    from cadenza.notify.api import send_test_message

    sent = send_test_message(name, subject=subject, body=body)
    if sent.status != "sent":
        raise CliError(f"The test message to {name} was not delivered: {sent.last_error}")
    click.echo(f"Sent a test message through {name} (message {sent.id}).")
