"""``cadenza server start``: the API, the web UI and the background services."""

from __future__ import annotations

import ipaddress

import click

from cadenza.cli.output import CliError


@click.group("server")
def server() -> None:
    """Run the cadenza server."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@server.command("start")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4200, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Level of the HTTP server's own log.",
)
def start_command(host: str, port: int, log_level: str) -> None:
    """Start the server: REST API under /api, the web UI at /, background services.

    It serves the database of the current settings (CADENZA_DATABASE_URL, or the
    SQLite file in CADENZA_HOME). With CADENZA_SERVER_API_KEY set, the API requires
    it as a bearer token and the UI asks for it; without a key the server should
    only listen on 127.0.0.1, which is the default.

    \b
    Example:
        cadenza server start --port 4200
    """
    try:
        import uvicorn

        from cadenza.server.app import create_app
    except ImportError as exc:
        raise CliError(
            f"The server needs its extra packages ({exc.name} is missing): "
            "pip install 'cadenza[server]'."
        ) from None
    from cadenza.cli.lookup import load_settings
    from cadenza.store import get_store

    settings = load_settings()
    store = get_store(settings.resolved_database_url)  # a bad database fails here, clearly
    key = settings.server_api_key
    if not key:
        if _is_loopback(host):
            click.echo(
                "No API key set (CADENZA_SERVER_API_KEY): listening on this machine only "
                f"({host}). Set a key before serving other machines.",
                err=True,
            )
        else:
            click.echo(
                f"Warning: listening on {host} WITHOUT an API key: anyone who can reach "
                "this port can read and change runs. Set CADENZA_SERVER_API_KEY.",
                err=True,
            )
    app = create_app(store, api_key=key, freeze_gc=True)
    click.echo(f"cadenza server at http://{host}:{port} (API at /api, docs at /api/docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, workers=1)
