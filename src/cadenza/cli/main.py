"""The ``cadenza`` command: the click group, ``cadenza version`` and the entry point."""

from __future__ import annotations

import sys
from typing import Any

import click

from cadenza.cli.artifacts import artifacts
from cadenza.cli.automations import automation
from cadenza.cli.channels import channel
from cadenza.cli.concurrency import concurrency_limit
from cadenza.cli.db import db
from cadenza.cli.deploy import deploy_command
from cadenza.cli.deployment import deployment
from cadenza.cli.flows import flows
from cadenza.cli.models import models
from cadenza.cli.output import CliError, echo_json
from cadenza.cli.runs import runs
from cadenza.cli.server import server
from cadenza.cli.work_pool import work_pool
from cadenza.cli.worker import worker


class CadenzaGroup(click.Group):
    """A group that shows cadenza's own errors as one line with exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from cadenza.exceptions import CadenzaError

        try:
            return super().invoke(ctx)
        except CadenzaError as exc:
            raise CliError(str(exc)) from None


@click.group(cls=CadenzaGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """cadenza: workflow orchestration for machine-learning pipelines.

    Commands read the database of the current settings: CADENZA_DATABASE_URL, or
    the SQLite file cadenza.db in CADENZA_HOME (default ~/.cadenza).
    """


cli.add_command(runs)
cli.add_command(flows)
cli.add_command(artifacts)
cli.add_command(models)
cli.add_command(db)
cli.add_command(server)
cli.add_command(deploy_command)
cli.add_command(deployment)
cli.add_command(work_pool)
cli.add_command(channel)
cli.add_command(automation)
cli.add_command(worker)
cli.add_command(concurrency_limit)


@cli.command("version")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def version_command(as_json: bool) -> None:
    """Print the versions of cadenza, Python and SQLAlchemy, and the database in use.

    \b
    Example:
        cadenza version
    """
    import platform

    import sqlalchemy

    from cadenza import __version__
    from cadenza.cli.db import describe_revision, schema_status
    from cadenza.cli.lookup import database_url, load_settings

    status = schema_status(database_url())
    info = {
        "cadenza_version": __version__,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlalchemy_version": sqlalchemy.__version__,
        "database_url": status["database_url"],
        "database_exists": status["exists"],
        "schema_revision": status["revision"],
        "schema_expected_revision": status["expected_revision"],
        "schema_up_to_date": status["up_to_date"],
        "schema_error": status["error"],
        "api_url": load_settings().api_url,
    }
    if as_json:
        echo_json(info)
        return
    rows = [
        ("cadenza", __version__),
        ("Python", f"{info['python_version']} ({info['python_implementation']})"),
        ("SQLAlchemy", info["sqlalchemy_version"]),
        ("Database", info["database_url"]),
        ("Schema", describe_revision(status)),
    ]
    if info["api_url"]:
        rows.append(("Server", info["api_url"]))
    for label, value in rows:
        click.echo(f"{label + ':':<12}{value}")


def main(argv: list[str] | None = None) -> None:
    """Run the ``cadenza`` command with ``argv`` (default: the process's arguments)."""
    cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="cadenza")


if __name__ == "__main__":
    main()
