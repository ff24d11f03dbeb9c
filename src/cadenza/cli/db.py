"""``cadenza db``: the schema revision of the database, and its migrations."""

from __future__ import annotations

from typing import Any

import click

from cadenza.cli.lookup import database_url, display_url, sqlite_path
from cadenza.cli.output import CliError, echo_json


@click.group("db")
def db() -> None:
    """Inspect and migrate the database of the current settings.

    The database is the one of CADENZA_DATABASE_URL, or the SQLite file
    cadenza.db in CADENZA_HOME (default ~/.cadenza).
    """


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors of a database or a migration that are shown as a message, not a traceback."""
    import sqlalchemy as sa
    from alembic.util.exc import CommandError

    from cadenza.exceptions import CadenzaError

    return (sa.exc.SQLAlchemyError, CommandError, CadenzaError, ImportError)


def _database_error(exc: BaseException, url: str) -> str:
    """A message saying what went wrong with the database at ``url`` and what to do."""
    where = display_url(url)
    import sqlalchemy as sa

    from cadenza.exceptions import CadenzaError

    if isinstance(exc, sa.exc.SQLAlchemyError):
        from cadenza.store.dialects import translate

        return str(translate(exc, where))
    if isinstance(exc, ImportError):
        return (
            f"The database driver for {where} is not installed ({exc}). Install it "
            "(for PostgreSQL: `pip install 'cadenza[postgres]'`)."
        )
    if isinstance(exc, CadenzaError):
        return str(exc)
    text = str(exc)
    if "Can't locate revision" in text:
        return (
            f"The database at {where} has a schema revision this version of cadenza does "
            f"not know ({text}); it was probably written by a newer cadenza. Upgrade cadenza."
        )
    return f"Could not migrate the database at {where}: {text}"


def schema_status(url: str) -> dict[str, Any]:
    """Where the database is, its schema revision and whether it is up to date.

    Never raises for database problems: they are reported under ``error``.
    """
    from cadenza.store.schema import SCHEMA_VERSION

    path = sqlite_path(url)
    exists = path is None or path.exists()
    status: dict[str, Any] = {
        "database_url": display_url(url),
        "database_path": None if path is None else str(path),
        "exists": exists,
        "revision": None,
        "expected_revision": SCHEMA_VERSION,
        "up_to_date": False,
        "error": None,
    }
    if not exists:
        return status
    from cadenza.store.migrate import current_revision

    try:
        revision = current_revision(url)
    except _expected_errors() as exc:
        status["error"] = _database_error(exc, url)
        return status
    status["revision"] = revision
    status["up_to_date"] = revision == SCHEMA_VERSION
    return status


def describe_revision(status: dict[str, Any]) -> str:
    """One line about the schema revision of :func:`schema_status`'s ``status``."""
    expected = status["expected_revision"]
    if status["error"]:
        return f"unknown ({status['error']})"
    if not status["exists"]:
        return "none: the database does not exist yet (the first flow run creates it)"
    revision = status["revision"]
    if revision is None:
        return f"none: no cadenza schema; `cadenza db upgrade` creates revision {expected}"
    if status["up_to_date"]:
        return f"{revision} (up to date)"
    from cadenza.store.migrate import known_revisions

    if revision in known_revisions():
        return f"{revision}: older than {expected}; run `cadenza db upgrade`"
    return f"{revision}: unknown to this version of cadenza (needs {expected}); upgrade cadenza"


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def current_command(as_json: bool) -> None:
    """Print the schema revision of the database and whether it is up to date.

    A database that cannot be read is an error (exit code 1), also with --json.

    \b
    Example:
        cadenza db current
    """
    status = schema_status(database_url())
    if as_json:
        echo_json(status)
    else:
        click.echo(f"Database:         {status['database_url']}")
        if not status["error"]:
            click.echo(f"Schema revision:  {describe_revision(status)}")
    if status["error"]:
        raise CliError(status["error"])


@db.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def upgrade_command(as_json: bool) -> None:
    """Migrate the database to the newest schema; print the revisions before and after.

    An empty or missing database gets the whole schema. Back up a database that
    matters before migrating it.

    \b
    Example:
        cadenza db upgrade
    """
    from cadenza.store.migrate import upgrade

    url = database_url()
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        before, after = upgrade(url)
    except _expected_errors() as exc:
        raise CliError(_database_error(exc, url)) from None
    if as_json:
        echo_json(
            {
                "database_url": display_url(url),
                "before": before,
                "after": after,
                "changed": before != after,
            }
        )
        return
    click.echo(f"Database:  {display_url(url)}")
    if before == after:
        click.echo(f"Schema revision {after or 'none'}: already up to date.")
    elif before is None:
        click.echo(f"Created the schema at revision {after}.")
    else:
        click.echo(f"Upgraded the schema from revision {before} to {after}.")
