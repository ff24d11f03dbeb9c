"""``cadenza models``: registered models, their versions, aliases, stages and history.

With ``CADENZA_API_URL`` set, the commands read and change the registry of that server;
otherwise the database of the settings.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import click

from cadenza.cli.output import CliError, echo_json, timestamp_fields

if TYPE_CHECKING:
    from cadenza.registry.client import RegistryClient
    from cadenza.registry.entities import ModelVersion, RegisteredModel, Transition


def _client(*, must_exist: bool = True) -> RegistryClient | None:
    """The registry client of the settings; None when there is no database yet and
    ``must_exist`` is False."""
    from cadenza.cli.lookup import database_url, display_url, load_settings, sqlite_path
    from cadenza.registry.client import RegistryClient

    settings = load_settings()
    if not settings.api_url:
        path = sqlite_path(database_url())
        if path is not None and not path.exists():
            if not must_exist:
                return None
            raise CliError(
                f"There is no cadenza database at {display_url(database_url())} yet, so no "
                "registered models: log one with cadenza.log_model(..., "
                "registered_model_name=...), or point CADENZA_HOME, CADENZA_DATABASE_URL or "
                "CADENZA_API_URL where the models are."
            )
    return RegistryClient()


def version_json(v: ModelVersion) -> dict[str, Any]:
    out = {k: val for k, val in dataclasses.asdict(v).items() if k not in ("created", "updated")}
    return {
        **out,
        **timestamp_fields("created", v.created),
        **timestamp_fields("updated", v.updated),
    }


def model_json(m: RegisteredModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "description": m.description,
        **timestamp_fields("created", m.created),
        **timestamp_fields("updated", m.updated),
        "tags": m.tags,
        "aliases": m.aliases,
        "latest_version": m.latest_version,
        "latest_versions": [version_json(v) for v in m.latest_versions],
    }


def transition_json(t: Transition) -> dict[str, Any]:
    out = {k: v for k, v in dataclasses.asdict(t).items() if k != "timestamp"}
    return {**out, **timestamp_fields("timestamp", t.timestamp)}


def _stages(m: RegisteredModel) -> str:
    shown = [
        f"{v.current_stage}: v{v.version}" for v in m.latest_versions if v.current_stage != "None"
    ]
    return ", ".join(shown) or "-"


def _aliases(m: RegisteredModel) -> str:
    return ", ".join(f"@{a}: v{v}" for a, v in sorted(m.aliases.items())) or "-"


def describe_transition(t: Transition) -> str:
    """``stage None -> Production`` or ``@champion 1 -> 2`` (``new``, ``removed``)."""
    if t.kind == "alias":
        before = f"v{t.from_value}" if t.from_value else "new"
        after = f"v{t.to_value}" if t.to_value else "removed"
        return f"@{t.alias} {before} -> {after}"
    return f"stage {t.from_value} -> {t.to_value}"


@click.group("models")
def models() -> None:
    """Registered models: list them, show one, move aliases and stages."""


@models.command("ls")
@click.option("--filter", "filter_string", metavar="FILTER", help="e.g. \"name LIKE 'taxi%'\".")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1), metavar="N")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ls_command(filter_string: str | None, limit: int, as_json: bool) -> None:
    """List registered models by name: latest version, aliases and stages.

    \b
    Examples:
        cadenza models ls
        cadenza models ls --filter "name LIKE 'taxi%'" --json
    """
    client = _client(must_exist=False)
    found = [] if client is None else client.search_registered_models(filter_string, limit)
    if as_json:
        echo_json([model_json(m) for m in found])
        return
    from rich.table import Table

    from cadenza.cli.output import console, local_time, print_block

    out = console()
    if not found:
        out.print(
            "No registered models yet: log one with "
            'cadenza.log_model(model, registered_model_name="NAME").'
        )
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("MODEL", "LATEST", "ALIASES", "STAGES", "UPDATED"):
        table.add_column(column, no_wrap=column != "ALIASES")
    for m in found:
        latest = f"v{m.latest_version}" if m.latest_version else "-"
        table.add_row(m.name, latest, _aliases(m), _stages(m), local_time(m.updated))
    print_block(out, table)


@models.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show_command(name: str, as_json: bool) -> None:
    """Show a registered model: its versions with aliases and stages, and the history
    of who moved which stage or alias, when and why.

    \b
    Example:
        cadenza models show taxi-duration
    """
    client = _client()
    assert client is not None
    model = client.get_registered_model(name)
    versions = client.search_model_versions(f"name = '{_quoted(name)}'", max_results=1000)
    history = client.get_model_history(name)
    if as_json:
        echo_json(
            {
                **model_json(model),
                "versions": [version_json(v) for v in versions],
                "history": [transition_json(t) for t in history],
            }
        )
        return
    from rich.table import Table

    from cadenza.cli.output import console, local_time, one_line, print_block

    out = console()
    out.print(f"[bold]{_escape(model.name)}[/bold]")
    if model.description:
        out.print(_escape(model.description))
    if model.tags:
        out.print("Tags: " + _escape(", ".join(f"{k}={v}" for k, v in model.tags.items())))
    out.print(f"Aliases: {_escape(_aliases(model))}")
    out.print()
    table = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
    for column in ("VERSION", "STAGE", "ALIASES", "RUN", "CODE", "CREATED", "DESCRIPTION"):
        table.add_column(column, no_wrap=column not in ("DESCRIPTION", "ALIASES"))
    for v in versions:
        table.add_row(
            str(v.version),
            v.current_stage,
            ", ".join(f"@{a}" for a in v.aliases) or "-",
            (v.run_id or "-")[:13],
            (v.code_version or "-")[:10],
            local_time(v.created),
            one_line(v.description, 60),
        )
    print_block(out, table)
    out.print()
    if not history:
        out.print("History: no stage or alias has moved yet.")
        return
    hist = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("WHEN", "VERSION", "MOVE", "WHO", "WHY"):
        hist.add_column(column, no_wrap=column != "WHY")
    for t in history:
        hist.add_row(
            local_time(t.timestamp),
            str(t.version),
            describe_transition(t),
            t.user or "-",
            one_line(t.comment, 80),
        )
    out.print("[bold]History[/bold]")
    print_block(out, hist)


def _quoted(text: str) -> str:
    if "'" in text:
        raise CliError(f"A model name with a quote cannot be filtered on: {text!r}.")
    return text


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@models.command("alias")
@click.argument("name")
@click.argument("version")
@click.argument("alias")
@click.option("--delete", is_flag=True, help="Remove the alias (VERSION is then checked).")
@click.option("--comment", metavar="TEXT", help="Why, kept in the history.")
@click.option("--json", "as_json", is_flag=True, help="Print the version as JSON.")
def alias_command(
    name: str, version: str, alias: str, delete: bool, comment: str | None, as_json: bool
) -> None:
    """Point ALIAS of model NAME at VERSION (moving it from the version it was on).

    \b
    Examples:
        cadenza models alias taxi-duration 3 champion
        cadenza models alias taxi-duration 2 challenger --delete
    """
    client = _client()
    assert client is not None
    target = client.get_model_version(name, version)
    if delete:
        current = client.get_model_version_by_alias(name, alias)
        if current.version != target.version:
            raise CliError(
                f"Alias {alias!r} of {name!r} points at version {current.version}, not "
                f"{target.version}; nothing was removed."
            )
        client.delete_registered_model_alias(name, alias, comment=comment)
        message = f"Removed alias {alias!r} from version {target.version} of {name!r}."
    else:
        client.set_registered_model_alias(name, alias, target.version, comment=comment)
        message = f"{name}@{alias} -> version {target.version}"
    result = client.get_model_version(name, target.version)
    if as_json:
        echo_json(version_json(result))
    else:
        click.echo(message)


@models.command("stage")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option(
    "--archive-existing",
    is_flag=True,
    help="Move the versions now in STAGE to Archived (Staging and Production only).",
)
@click.option("--comment", metavar="TEXT", help="Why, kept in the history.")
@click.option("--json", "as_json", is_flag=True, help="Print the version as JSON.")
def stage_command(
    name: str, version: str, stage: str, archive_existing: bool, comment: str | None, as_json: bool
) -> None:
    """Move VERSION of model NAME to STAGE: None, Staging, Production or Archived.

    \b
    Example:
        cadenza models stage taxi-duration 3 Production --archive-existing \\
            --comment "rmse 4.1 on February"
    """
    client = _client()
    assert client is not None
    before = client.get_model_version(name, version)
    moved = client.transition_model_version_stage(
        name, before.version, stage, archive_existing_versions=archive_existing, comment=comment
    )
    if as_json:
        echo_json(version_json(moved))
        return
    if before.current_stage == moved.current_stage:
        click.echo(f"Version {moved.version} of {name!r} is in {moved.current_stage} already.")
    else:
        click.echo(
            f"Version {moved.version} of {name!r}: {before.current_stage} -> {moved.current_stage}"
        )
