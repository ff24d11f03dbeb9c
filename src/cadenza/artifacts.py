"""Artifacts: markdown reports, tables and links that runs leave for people to read.

Example::

    from cadenza.artifacts import create_markdown_artifact, create_table_artifact

    create_table_artifact([{"model": "ridge", "rmse": 4.1}], key="model-scores")
    create_markdown_artifact("# Training\nrmse went **down**.", key="training-report")

Inside a task the artifact belongs to the task run (and its flow run); inside a
flow, to the flow run; elsewhere to no run. Artifacts created with the same ``key``
are the versions of one artifact: the newest is the current one. They are recorded
through the run reporter like everything else a run does, so creating one costs no
database round-trip inside a run, and they are durable when the flow call returns.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cadenza.context import FlowRunContext, TaskRunContext
from cadenza.events import ArtifactCreated
from cadenza.exceptions import CadenzaError
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.reporting.base import Reporter

__all__ = [
    "InvalidArtifact",
    "create_link_artifact",
    "create_markdown_artifact",
    "create_table_artifact",
]

MAX_KEY_LENGTH = 255
_KEY = re.compile(r"[a-z0-9-]+")
_TABLE_SHAPES = (
    "a list of dicts (one per row), a dict of lists (one per column), a list of lists "
    "(rows without a header), or a pandas or polars DataFrame"
)


class InvalidArtifact(CadenzaError, ValueError):
    """An artifact's key, description or content is not one cadenza can record."""


def create_markdown_artifact(
    markdown: str, key: str | None = None, description: str | None = None
) -> str:
    """Record a markdown text, shown rendered by ``cadenza artifacts show``.

    Args:
        markdown: the text, in Markdown.
        key: names the artifact across runs: lowercase letters, digits and dashes.
            Each call with the same key records a new version of it.
        description: a short text saying what the artifact is (Markdown too).

    Returns:
        The id of the new artifact.

    Raises:
        InvalidArtifact: ``markdown`` is not a string, or the key or description is
            not valid.
    """
    if not isinstance(markdown, str):
        raise InvalidArtifact(
            f"create_markdown_artifact needs the markdown as a str, not a "
            f"{type(markdown).__name__}."
        )
    return _create("markdown", markdown, key, description)


def create_link_artifact(
    link: str,
    link_text: str | None = None,
    key: str | None = None,
    description: str | None = None,
) -> str:
    """Record a link, such as the address of a report, a dashboard or a file.

    Args:
        link: the URL or path.
        link_text: the text to show instead of the link itself.
        key: names the artifact across runs: lowercase letters, digits and dashes.
        description: a short text saying what the artifact is.

    Returns:
        The id of the new artifact.

    Raises:
        InvalidArtifact: ``link`` is not a non-empty string, ``link_text`` is not a
            string, or the key or description is not valid.
    """
    if not isinstance(link, str) or not link.strip():
        raise InvalidArtifact(
            f"create_link_artifact needs the link as a non-empty str, not {link!r}."
        )
    if link_text is not None and not isinstance(link_text, str):
        raise InvalidArtifact(
            f"create_link_artifact needs link_text as a str or None, not a "
            f"{type(link_text).__name__}."
        )
    return _create("link", {"link": link, "link_text": link_text or None}, key, description)


def create_table_artifact(
    table: Any, key: str | None = None, description: str | None = None
) -> str:
    """Record a table, such as model scores or a sample of a dataset.

    ``table`` may be a list of dicts (one per row; the columns are the keys, in the
    order they first appear, and a row without a column has null there), a dict of
    lists (one per column; shorter columns are padded with nulls), a list of lists
    (rows without a header), or a pandas or polars DataFrame (its columns and rows;
    not a pandas index). Cells are stored as JSON: NaN and missing values (None, pandas'
    NA and NaT) become null, infinities the strings ``"inf"`` and ``"-inf"``,
    dates and times ISO-8601 strings, NumPy numbers plain numbers, and any other
    value that JSON cannot hold its ``str()``.

    Args:
        table: the rows.
        key: names the artifact across runs: lowercase letters, digits and dashes.
        description: a short text saying what the artifact is.

    Returns:
        The id of the new artifact.

    Raises:
        InvalidArtifact: ``table`` has none of the shapes above, or the key or
            description is not valid.
    """
    return _create("table", normalize_table(table), key, description)


def validate_key(key: str | None) -> None:
    """Raise :class:`InvalidArtifact` unless ``key`` is None or a valid artifact key."""
    if key is None:
        return
    if not isinstance(key, str):
        raise InvalidArtifact(f"An artifact key must be a str, not a {type(key).__name__}.")
    if _KEY.fullmatch(key) and len(key) <= MAX_KEY_LENGTH:
        return
    hint = ""
    if not key:
        problem = "is empty"
    elif len(key) > MAX_KEY_LENGTH:
        problem = f"is {len(key)} characters long (at most {MAX_KEY_LENGTH})"
    else:
        problem = "is not valid"
        suggestion = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
        if suggestion:
            hint = f", such as {suggestion!r}"
    raise InvalidArtifact(
        f"The artifact key {key[:80]!r} {problem}: use only lowercase letters (a-z), "
        f"digits (0-9) and dashes (-){hint}."
    )


def _create(type_: str, data: Any, key: str | None, description: str | None) -> str:
    validate_key(key)
    if description is not None and not isinstance(description, str):
        raise InvalidArtifact(
            f"An artifact description must be a str or None, not a {type(description).__name__}."
        )
    artifact_id = uuid7()
    flow_run_id, task_run_id, reporter = _current_runs()
    event = ArtifactCreated(
        id=artifact_id,
        type=type_,
        data=json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
        key=key,
        description=description,
        flow_run_id=flow_run_id,
        task_run_id=task_run_id,
        created=time.time(),
    )
    if reporter is not None:
        # Written with the run's other events; the end of a flow run flushes them.
        reporter.emit(event)
    else:
        from cadenza.reporting import get_reporter

        # Outside any run nothing flushes later: write now. A failure is logged by
        # the reporter and retried; it is not raised.
        reporter = get_reporter()
        reporter.emit(event)
        reporter.flush()
    return artifact_id


def _current_runs() -> tuple[str | None, str | None, Reporter | None]:
    """The flow run id, task run id and reporter of the calling code's run, if any."""
    task_ctx = TaskRunContext.get()
    if task_ctx is not None:
        run = task_ctx.task_run
        flow_ctx = task_ctx.flow_run_context
        if flow_ctx is not None:
            return run.flow_run_id, run.id, flow_ctx.reporter
        from cadenza.reporting import get_reporter

        return run.flow_run_id, run.id, get_reporter()
    flow_ctx = FlowRunContext.get()
    if flow_ctx is not None:
        return flow_ctx.flow_run.id, None, flow_ctx.reporter
    return None, None, None


# -- tables ------------------------------------------------------------------------------
def normalize_table(table: Any) -> dict[str, Any]:
    """``table`` as ``{"columns": [...] or None, "rows": [[...], ...]}``, cells JSON-safe.

    See :func:`create_table_artifact` for the shapes accepted and how cells are stored.

    Raises:
        InvalidArtifact: ``table`` has none of the accepted shapes.
    """
    library = _dataframe_library(table)
    if library == "pandas":
        split = table.to_dict(orient="split", index=False)
        columns, rows = split["columns"], split["data"]
        return {"columns": [str(c) for c in columns], "rows": [_cells(r) for r in rows]}
    if library == "polars":
        return {"columns": list(table.columns), "rows": [_cells(r) for r in table.rows()]}
    if isinstance(table, Mapping):
        return _from_columns(table)
    if isinstance(table, list | tuple):
        if all(isinstance(row, Mapping) for row in table):
            return _from_records(table)
        if all(isinstance(row, list | tuple) for row in table):
            return {"columns": None, "rows": [_cells(row) for row in table]}
        kinds = sorted({type(row).__name__ for row in table})
        raise InvalidArtifact(
            f"create_table_artifact needs {_TABLE_SHAPES}; got a {type(table).__name__} "
            f"of {', '.join(kinds)}."
        )
    raise InvalidArtifact(
        f"create_table_artifact needs {_TABLE_SHAPES}; got a {type(table).__name__}."
    )


def _dataframe_library(value: Any) -> str | None:
    """``pandas`` or ``polars`` for their DataFrames (neither is imported), else None."""
    cls = type(value)
    if cls.__name__ != "DataFrame":
        return None
    library = cls.__module__.split(".", 1)[0]
    return library if library in ("pandas", "polars") else None


def _cells(row: Any) -> list[Any]:
    return [_cell(v) for v in row]


def _from_records(records: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    columns: dict[str, None] = {}
    for record in records:
        for name in record:
            columns.setdefault(str(name), None)
    rows = []
    for record in records:
        by_name = {str(k): v for k, v in record.items()}
        rows.append([_cell(by_name.get(name)) for name in columns])
    return {"columns": list(columns), "rows": rows}


def _from_columns(table: Mapping[Any, Any]) -> dict[str, Any]:
    values = []
    for name, column in table.items():
        if hasattr(column, "tolist") and not isinstance(column, list | tuple):
            column = column.tolist()  # a NumPy array or a pandas Series
        if not isinstance(column, list | tuple):
            raise InvalidArtifact(
                f"create_table_artifact got a dict whose value for {name!r} is a "
                f"{type(column).__name__}; a dict must map each column name to a list "
                f"of its values. Accepted tables: {_TABLE_SHAPES}."
            )
        values.append(column)
    n_rows = max((len(v) for v in values), default=0)
    rows = [
        [_cell(column[i]) if i < len(column) else None for column in values] for i in range(n_rows)
    ]
    return {"columns": [str(name) for name in table], "rows": rows}


_MISSING_TYPES = frozenset({"NAType", "NaTType"})
"""pandas' missing values, stored as null."""


def _cell(value: Any) -> Any:
    """``value`` as JSON can hold it (see :func:`create_table_artifact`)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(value)
    if type(value).__name__ in _MISSING_TYPES:
        return None
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if type(value).__module__ == "numpy":
        if getattr(value, "ndim", None) == 0:
            return _cell(value.item())
        if hasattr(value, "tolist"):
            return _cell(value.tolist())
    return str(value)
