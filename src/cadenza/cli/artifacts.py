"""``cadenza artifacts``: list artifacts and show one, rendered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.runs import Artifact
    from cadenza.store.base import RunStore


@click.group("artifacts")
def artifacts() -> None:
    """List the artifacts runs created (markdown, tables, links) and show one."""


@artifacts.command("ls")
@click.option("--key", metavar="KEY", help="Only artifacts with this key.")
@click.option(
    "--flow-run",
    "run_id",
    metavar="RUN_ID",
    help="Only artifacts of this flow run and its task runs (or of this task run).",
)
@click.option(
    "--all-versions", is_flag=True, help="Every version of each key, not only the newest."
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="Show at most this many artifacts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ls_command(
    key: str | None, run_id: str | None, all_versions: bool, limit: int, as_json: bool
) -> None:
    """List artifacts, newest first: the current version of each key, and those
    without a key.

    Columns: short id, key, version, type, the run that created it, when, and its
    description (or a summary of its content).

    \b
    Examples:
        cadenza artifacts ls
        cadenza artifacts ls --key model-scores --all-versions
    """
    from cadenza.cli.lookup import find_run, open_store, require_store
    from cadenza.runs import FlowRun

    filters: dict[str, Any] = {"key": key, "latest_only": not all_versions}
    store = open_store() if run_id is None else require_store(run_id)
    if run_id is not None and store is not None:
        run = find_run(store, run_id)
        filters["flow_run_id" if isinstance(run, FlowRun) else "task_run_id"] = run.id
    found = [] if store is None else store.list_artifacts(limit=limit + 1, **filters)
    more, found = len(found) > limit, found[:limit]
    labels = RunLabels(store)
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json([artifact_json(a, labels) for a in found])
        return
    from cadenza.cli import artifact_views

    artifact_views.print_listing(store, found, labels, more=more, filtered=bool(key or run_id))


@artifacts.command("show")
@click.argument("key_or_id")
@click.option(
    "--version",
    type=int,
    metavar="N",
    help="This version of the key (1 is the first) instead of the newest.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show_command(key_or_id: str, version: int | None, as_json: bool) -> None:
    """Show an artifact: markdown rendered, a table as a table, a link, and the run
    that created it.

    KEY_OR_ID is an artifact's key (its newest version, or --version N), its id, or
    the first characters of its id.

    \b
    Examples:
        cadenza artifacts show model-scores
        cadenza artifacts show model-scores --version 1
    """
    from cadenza.cli.lookup import database_url, display_url, open_store

    store = open_store()
    if store is None:
        raise CliError(
            f"No artifact matches {key_or_id!r}: there is no cadenza database at "
            f"{display_url(database_url())} yet. Run a flow that creates artifacts first."
        )
    artifact = find_artifact(store, key_or_id, version)
    versions = None
    if artifact.key is not None:
        latest = store.read_artifact_by_key(artifact.key)
        versions = latest.version if latest is not None else None
    labels = RunLabels(store)
    if as_json:
        from cadenza.cli.output import echo_json

        echo_json({**artifact_json(artifact, labels), "versions": versions})
        return
    from cadenza.cli import artifact_views

    artifact_views.print_artifact(artifact, labels, versions)


def find_artifact(store: RunStore, key_or_id: str, version: int | None = None) -> Artifact:
    """The artifact named by a key (its newest version, or ``version``), an id or the
    first characters of an id.

    Raises:
        CliError: nothing matches, several artifacts do, or ``version`` does not exist.
    """
    wanted = key_or_id.strip()
    if not wanted:
        raise CliError("Give an artifact key or id; list artifacts with `cadenza artifacts ls`.")
    if version is not None:
        return _find_version(store, wanted, version)
    found = store.read_artifact(wanted)
    if found is not None:
        return found
    by_key = store.read_artifact_by_key(wanted)
    ids = store.resolve_artifact_id(wanted)
    if by_key is not None and ids:
        raise CliError(
            f"{wanted!r} is the key of artifact {by_key.id} and the start of the id of "
            f"{ids[0]}; give the whole id."
        )
    if by_key is not None:
        return by_key
    if len(ids) > 1:
        more = ", …" if len(ids) >= 10 else ""
        raise CliError(
            f"{wanted!r} is the start of several artifact ids ({', '.join(ids)}{more}); "
            "give more characters of the id."
        )
    found = store.read_artifact(ids[0]) if ids else None
    if found is None:
        raise CliError(
            f"No artifact has the key {wanted!r} or an id starting with it. "
            "List artifacts with `cadenza artifacts ls`."
        )
    return found


def _find_version(store: RunStore, key: str, version: int) -> Artifact:
    found = store.read_artifact_by_key(key, version=version)
    if found is not None:
        return found
    latest = store.read_artifact_by_key(key)
    if latest is not None:
        n = latest.version or 0
        raise CliError(
            f"The artifact {key!r} has {n} version{'s' if n != 1 else ''}; give --version "
            f"between 1 and {n}."
        )
    by_id = find_artifact(store, key)  # an id: the versions of its key
    if by_id.key is None:
        raise CliError(
            f"The artifact {by_id.id} has no key, so it has no versions; show it without --version."
        )
    return _find_version(store, by_id.key, version)


class RunLabels:
    """Names of the flow runs and task runs of artifacts, each read once."""

    def __init__(self, store: RunStore | None) -> None:
        self._store = store
        self._flow_runs: dict[str, tuple[str, str] | None] = {}
        self._task_runs: dict[str, str | None] = {}

    def flow_run(self, run_id: str | None) -> tuple[str, str] | None:
        """The name of the flow run and of its flow, or None when unknown."""
        if run_id is None or self._store is None:
            return None
        if run_id not in self._flow_runs:
            run = self._store.read_flow_run(run_id)
            self._flow_runs[run_id] = None if run is None else (run.name, run.flow_name)
        return self._flow_runs[run_id]

    def task_run(self, run_id: str | None) -> str | None:
        """The name of the task run, or None when unknown."""
        if run_id is None or self._store is None:
            return None
        if run_id not in self._task_runs:
            run = self._store.read_task_run(run_id)
            self._task_runs[run_id] = None if run is None else run.name
        return self._task_runs[run_id]

    def label(self, artifact: Artifact) -> str:
        """``flow-run-name``, ``flow-run-name/task-run-name`` or ``-`` outside runs."""
        parts = []
        if artifact.flow_run_id is not None:
            flow_run = self.flow_run(artifact.flow_run_id)
            parts.append(flow_run[0] if flow_run else artifact.flow_run_id[:13])
        if artifact.task_run_id is not None:
            parts.append(self.task_run(artifact.task_run_id) or artifact.task_run_id[:13])
        return "/".join(parts) or "-"


def artifact_json(artifact: Artifact, labels: RunLabels) -> dict[str, Any]:
    """An artifact with the names of its runs; both timestamps, as everywhere."""
    from cadenza.cli.output import timestamp_fields

    flow_run = labels.flow_run(artifact.flow_run_id)
    return {
        "id": artifact.id,
        "key": artifact.key,
        "version": artifact.version,
        "type": artifact.type,
        "description": artifact.description,
        "data": artifact.data,
        "flow_run_id": artifact.flow_run_id,
        "flow_run_name": flow_run[0] if flow_run else None,
        "flow_name": flow_run[1] if flow_run else None,
        "task_run_id": artifact.task_run_id,
        "task_run_name": labels.task_run(artifact.task_run_id),
        **timestamp_fields("created", artifact.created),
    }
