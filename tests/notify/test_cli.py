"""``cadenza channel`` and ``cadenza automation`` on the embedded database."""

from __future__ import annotations

import json

from click.testing import CliRunner
from tests.notify.conftest import Receiver

from cadenza import flow
from cadenza.cli.main import cli
from cadenza.notify import flush


def run(*args: str, input: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exit_code == code, result.output
    return result.output


def test_channels_and_automations_from_the_command_line(receiver: Receiver) -> None:
    out = run(
        "channel", "create", "ops", "--type", "email", "--host", "smtp.example.com",
        "--username", "cadenza", "--password", "-", "--from", "cadenza@example.com",
        "--to", "a@example.com", "--to", "b@example.com",
        input="typed-on-stdin\n",
    )  # fmt: skip
    assert "Created channel ops: smtp smtp.example.com:587 (starttls) as cadenza" in out
    run("channel", "create", "hook", "--type", "webhook", "--url", receiver.url, "--format", "json")
    listing = run("channel", "ls")
    assert "hook" in listing and "ops" in listing
    inspected = json.loads(run("channel", "inspect", "ops", "--json"))
    assert inspected["config"]["to"] == ["a@example.com", "b@example.com"]
    assert inspected["secrets"]["password"]["display"] == "••••"
    assert "typed-on-stdin" not in run("channel", "inspect", "ops")
    assert "Sent a test message through hook" in run("channel", "test", "hook")

    missing = run("channel", "create", "x", "--type", "email", "--host", "h", code=1)
    assert "An email channel needs --from, --to." in missing
    bad = run("automation", "create", "a", "--on", "Exploded", "--notify", "hook", code=1)
    assert "'Exploded' is not an event to react to" in bad
    both = run("automation", "create", "a", "--notify", "hook", code=1)
    assert "Give the events to react to with --on, or --not-completed-within." in both

    out = run(
        "automation", "create", "etl-alerts", "--on", "Failed,Crashed", "--on", "Recovered",
        "--flow", "etl", "--notify", "hook", "--subject", "{{ flow.name }}: {{ event }}",
    )  # fmt: skip
    assert "a flow run enters Failed or Crashed or Recovered (flow etl), notify hook" in out
    out = run(
        "automation", "create", "overdue", "--not-completed-within", "6h",
        "--deployment", "etl/nightly", "--notify", "ops", "--disabled",
    )  # fmt: skip
    assert "has not completed 6h00m after its scheduled time" in out and "(disabled)" in out
    automations = json.loads(run("automation", "ls", "--json"))
    assert [(a["name"], a["enabled"]) for a in automations] == [
        ("etl-alerts", True),
        ("overdue", False),
    ]
    assert "Enabled automation overdue." in run("automation", "enable", "overdue")
    assert "Disabled automation overdue." in run("automation", "disable", "overdue")
    refused = run("channel", "delete", "ops", code=1)
    assert "notified by the automation(s) overdue" in refused

    @flow(name="etl")
    def etl() -> None:
        raise RuntimeError("no rows")

    etl(return_state=True)
    assert flush(20)
    history = json.loads(run("automation", "history", "etl-alerts", "--attempts", "--json"))
    assert [(h["subject"], h["status"], len(h["attempts_history"])) for h in history] == [
        ("etl: Failed", "sent", 1)
    ]
    table = run("automation", "history")
    assert "etl: Failed" in table and "Test" in table
    assert "Deleted automation overdue." in run("automation", "delete", "overdue")
    assert "Deleted channel ops." in run("channel", "delete", "ops")
    assert "There is no automation named 'nope'" in run("automation", "inspect", "nope", code=1)
