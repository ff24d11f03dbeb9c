"""``cadenza runs cancel``: stop a flow run that has not finished."""

from __future__ import annotations

from typing import Any

import click

from cadenza.cli.output import CliError


@click.command("cancel")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def cancel_command(run_id: str, as_json: bool) -> None:
    """Cancel a flow run: a Scheduled one at once, a running one by stopping its process.

    The run is marked Cancelling; its process, when it runs on this machine, gets
    SIGTERM and the run ends Cancelled. A run that a worker runs elsewhere is
    stopped by its worker at its next heartbeat. With CADENZA_API_URL set, the
    server is asked (give the run's full id).

    \b
    Examples:
        cadenza runs cancel 01a209c0-1a4
        CADENZA_API_URL=http://server:4200 cadenza runs cancel 01a209c0-1a4b-7c3d-...
    """
    from cadenza.cli.lookup import load_settings
    from cadenza.cli.output import echo_json

    settings = load_settings()
    if settings.api_url:
        answer = _cancel_on_server(settings.api_url, settings.api_key, run_id)
    else:
        answer = _cancel_here(run_id)
    if as_json:
        echo_json(answer)
        return
    click.echo(
        f"Flow run {answer['flow_run_name']!r} ({answer['flow_run_id']}): {answer['message']}"
    )


def _cancel_here(run_id: str) -> dict[str, Any]:
    from cadenza.cancellation import cancel_flow_run
    from cadenza.cli.lookup import find_run, require_store
    from cadenza.runs import FlowRun

    store = require_store(run_id)
    run = find_run(store, run_id)
    if not isinstance(run, FlowRun):
        raise CliError(f"{run_id} is a task run; give the id of its flow run ({run.flow_run_id}).")
    outcome = cancel_flow_run(
        store, run.id, through="the command line", own="this command's own process"
    )
    return {
        "flow_run_id": run.id,
        "flow_run_name": run.name,
        "signal_sent": outcome.signal_sent,
        "message": outcome.message,
    }


def _cancel_on_server(api_url: str, api_key: str | None, run_id: str) -> dict[str, Any]:
    import httpx

    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    url = f"{api_url.rstrip('/')}/api/flow_runs/{run_id}/cancel"
    try:
        response = httpx.post(url, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise CliError(f"Could not reach the cadenza server at {api_url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 202:
        message = body.get("message") if isinstance(body, dict) else None
        raise CliError(message or f"The server answered {response.status_code}.")
    run = body["flow_run"]
    return {
        "flow_run_id": run["id"],
        "flow_run_name": run["name"],
        "signal_sent": body["signal_sent"],
        "message": body["message"],
    }
