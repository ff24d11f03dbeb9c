"""Opening the store for the command line, and finding runs by a prefix of their id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cadenza.cli.output import CliError

if TYPE_CHECKING:
    from cadenza.runs import FlowRun, TaskRun
    from cadenza.settings import Settings
    from cadenza.store.base import RunStore

MIN_SHORT_ID = 8
"""Fewest characters of an id shown in tables."""
_VERIFY_LIMIT = 500
"""Above this many ids in one view, short ids are checked against the view only."""


def load_settings() -> Settings:
    """The settings in force; a bad ``CADENZA_*`` variable is a :class:`CliError`."""
    from cadenza.settings import get_settings

    try:
        return get_settings()
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from None


def database_url() -> str:
    """The URL of the database the settings point at."""
    return load_settings().resolved_database_url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite.

    URI filenames (``sqlite:///file:/path/cadenza.db?mode=ro&uri=true``) give their path.

    Raises:
        CliError: the URL cannot be parsed.
    """
    if not url.startswith("sqlite"):
        return None
    import sqlalchemy as sa

    try:
        database = sa.engine.make_url(url).database
    except sa.exc.ArgumentError:
        raise CliError(
            f"{url!r} is not a database URL. Set CADENZA_DATABASE_URL to a SQLAlchemy URL "
            "(sqlite:///path/to/cadenza.db or postgresql+psycopg://...), or unset it."
        ) from None
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename: file:path?mode=ro&uri=true
        database = database.removeprefix("file:")
        if database.startswith("///"):
            database = database[2:]
    return Path(database).expanduser()


def display_url(url: str) -> str:
    """The database URL with any password hidden; the file path for SQLite."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def open_store() -> RunStore | None:
    """The store of the current settings, or None when its SQLite file does not exist.

    Reading commands do not create a database: with no file there are no runs.

    Raises:
        CliError: the settings point at a cadenza server, which the command line does
            not read from yet.
        StoreError: the database cannot be opened (shown by the command group).
    """
    settings = load_settings()
    if settings.api_url:
        raise CliError(
            f"CADENZA_API_URL is set ({settings.api_url}), but reading runs from a cadenza "
            "server is not available in this version. Unset CADENZA_API_URL to read the "
            "local database."
        )
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    from cadenza.store import get_store

    return get_store(url)


def require_store(what: str) -> RunStore:
    """Like :func:`open_store`, but a missing database is an error about ``what``."""
    store = open_store()
    if store is None:
        raise CliError(
            f"No run matches {what!r}: there is no cadenza database at "
            f"{display_url(database_url())} yet. Run a flow first, or point CADENZA_HOME "
            "or CADENZA_DATABASE_URL at the database that holds the run."
        )
    return store


def find_run(store: RunStore, prefix: str) -> FlowRun | TaskRun:
    """The flow run or task run whose id is ``prefix`` or starts with it.

    Raises:
        CliError: no run or several runs match.
    """
    wanted = prefix.strip().lower()
    if not wanted:
        raise CliError("Give a run id (or its first characters); list runs with `cadenza runs ls`.")
    ids = store.resolve_run_id(wanted)
    if wanted in ids:
        ids = [wanted]
    if not ids:
        raise CliError(
            f"No flow run or task run has an id starting with {prefix!r}. "
            "List runs with `cadenza runs ls`."
        )
    if len(ids) > 1:
        more = ", …" if len(ids) >= 10 else ""
        raise CliError(
            f"{prefix!r} is the start of several run ids ({', '.join(ids)}{more}); "
            "give more characters of the id."
        )
    run_id = ids[0]
    found: FlowRun | TaskRun | None = store.read_flow_run(run_id) or store.read_task_run(run_id)
    if found is None:
        raise CliError(f"The run {run_id} was deleted while it was being read; try again.")
    return found


def find_task_run(store: RunStore, prefix: str) -> TaskRun:
    """The task run whose id starts with ``prefix``.

    Raises:
        CliError: no task run or several runs match, or the id is a flow run's.
    """
    from cadenza.runs import TaskRun

    run = find_run(store, prefix)
    if not isinstance(run, TaskRun):
        raise CliError(
            f"{prefix!r} is the id of flow run {run.name!r}, not of a task run. "
            "Give a task run id (see `cadenza runs show RUN_ID`)."
        )
    return run


def short_ids(
    store: RunStore,
    ids: Iterable[str],
    resolve: Callable[[str], list[str]] | None = None,
) -> dict[str, str]:
    """The shortest prefix of each id that names that run alone (at least 8 characters).

    Ids are time-ordered, so runs created in the same millisecond share their first
    13 characters; each prefix is made unique among ``ids`` and, for views of up to
    500 ids, checked against the store (``cadenza runs show PREFIX`` then finds it).
    ``resolve`` finds the ids starting with a prefix (default: the store's run ids;
    pass ``store.resolve_artifact_id`` for artifacts).
    """
    resolve = store.resolve_run_id if resolve is None else resolve
    unique = list(dict.fromkeys(ids))
    lengths = _unique_lengths(unique)
    verify = len(unique) <= _VERIFY_LIMIT
    out = {}
    for run_id in unique:
        n = max(MIN_SHORT_ID, lengths[run_id])
        n = _store_unique_length(resolve, run_id, n) if verify else max(n, 18)
        if n < len(run_id) and run_id[n - 1] == "-":
            n += 1
        out[run_id] = run_id[:n]
    return out


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _unique_lengths(ids: list[str]) -> dict[str, int]:
    ordered = sorted(ids)
    out = {}
    for k, run_id in enumerate(ordered):
        shared = 0
        if k > 0:
            shared = _common(run_id, ordered[k - 1])
        if k + 1 < len(ordered):
            shared = max(shared, _common(run_id, ordered[k + 1]))
        out[run_id] = min(shared + 1, len(run_id))
    return out


def _store_unique_length(resolve: Callable[[str], list[str]], run_id: str, n: int) -> int:
    while n < len(run_id):
        others = [i for i in resolve(run_id[:n]) if i != run_id]
        if not others:
            return n
        n = max(n + 1, max(_common(run_id, i) for i in others) + 1)
    return len(run_id)
