"""Artifacts as text: the listing of ``cadenza artifacts ls`` and one artifact rendered."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cadenza.cli.output import console, local_time, one_line, print_block

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from cadenza.cli.artifacts import RunLabels
    from cadenza.runs import Artifact
    from cadenza.store.base import RunStore


def summary(artifact: Artifact) -> str:
    """One line about the content: the first line of markdown, a table's size, a link."""
    data = artifact.data
    if artifact.type == "markdown" and isinstance(data, str):
        first = next((ln.strip().lstrip("#").strip() for ln in data.splitlines() if ln.strip()), "")
        return one_line(first, 80)
    if artifact.type == "table" and isinstance(data, dict):
        rows = data.get("rows") or []
        columns = data.get("columns")
        n_columns = len(columns) if columns is not None else max(map(len, rows), default=0)
        return f"{_plural(len(rows), 'row')}, {_plural(n_columns, 'column')}"
    if artifact.type == "link" and isinstance(data, dict):
        text = data.get("link_text")
        return f"{text} <{data.get('link')}>" if text else str(data.get("link"))
    return one_line(json.dumps(data, ensure_ascii=False, default=str), 80)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def print_listing(
    store: RunStore | None,
    found: list[Artifact],
    labels: RunLabels,
    *,
    more: bool,
    filtered: bool,
) -> None:
    """The table of ``cadenza artifacts ls``."""
    from rich.table import Table
    from rich.text import Text

    from cadenza.cli.lookup import short_ids

    out = console()
    if store is None or not found:
        if filtered:
            out.print("No artifacts match these filters.")
        else:
            out.print(
                "No artifacts yet: call create_markdown_artifact, create_table_artifact or "
                "create_link_artifact in a flow or task, then list them here."
            )
        return
    short = short_ids(store, [a.id for a in found], resolve=store.resolve_artifact_id)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("ID", "KEY", "VERSION", "TYPE", "RUN", "CREATED", "DESCRIPTION"):
        table.add_column(title, no_wrap=True, justify="right" if title == "VERSION" else "left")
    for a in found:
        table.add_row(
            short[a.id],
            Text(a.key or "-"),
            "-" if a.version is None else str(a.version),
            Text(a.type),
            Text(labels.label(a)),
            local_time(a.created),
            Text(one_line(a.description, 80) if a.description else summary(a)),
        )
    print_block(out, table)
    if more:
        out.print(
            f"Showing the newest {_plural(len(found), 'artifact')}; use --limit to see more.",
            style="dim",
        )


def print_artifact(artifact: Artifact, labels: RunLabels, versions: int | None) -> None:
    """``cadenza artifacts show``: a header, then the content rendered."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    header = Table.grid(padding=(0, 2))
    header.add_column(style="bold", no_wrap=True)
    header.add_column()
    if artifact.key is None:
        header.add_row("Artifact", "(no key)")
    else:
        which = "the current one" if artifact.version == versions else "not the current one"
        header.add_row(
            "Artifact",
            Text(f"{artifact.key}  (version {artifact.version} of {versions}, {which})"),
        )
    header.add_row("Id", Text(artifact.id))
    header.add_row("Type", Text(artifact.type))
    if artifact.description:
        header.add_row("Description", Text(artifact.description))
    header.add_row("Created", local_time(artifact.created))
    for label, value in _run_rows(artifact, labels):
        header.add_row(label, Text(value))
    print_block(out, header)
    out.print()
    content = render(artifact)
    if artifact.type == "markdown":
        print_block(out, content, width=min(out.width, _PROSE_WIDTH))
    else:
        print_block(out, content)


_PROSE_WIDTH = 100
"""Columns at most for rendered markdown, so that lines stay readable."""


def _run_rows(artifact: Artifact, labels: RunLabels) -> list[tuple[str, str]]:
    if artifact.flow_run_id is None and artifact.task_run_id is None:
        return [("Run", "none (created outside any flow run or task run)")]
    rows = []
    if artifact.flow_run_id is not None:
        flow_run = labels.flow_run(artifact.flow_run_id)
        if flow_run is None:
            rows.append(("Flow run", f"{artifact.flow_run_id} (not in this database)"))
        else:
            name, flow_name = flow_run
            rows.append(("Flow run", f"{name}  {artifact.flow_run_id}  (flow {flow_name})"))
    if artifact.task_run_id is not None:
        task_name = labels.task_run(artifact.task_run_id)
        rows.append(("Task run", f"{task_name or '?'}  {artifact.task_run_id}"))
    return rows


def render(artifact: Artifact) -> RenderableType:
    """The content of an artifact as something rich prints."""
    from rich.markdown import Markdown
    from rich.text import Text

    data = artifact.data
    if artifact.type == "markdown" and isinstance(data, str):
        return Markdown(data)
    if artifact.type == "table" and isinstance(data, dict):
        return table_view(data.get("columns"), data.get("rows") or [])
    if artifact.type == "link" and isinstance(data, dict):
        from rich.style import Style

        link = str(data.get("link"))
        text = data.get("link_text")
        shown = Text(str(text) if text else link, style=Style(link=link, underline=True))
        if text:
            shown.append(f" <{link}>", style="dim")
        return shown
    return Text(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def table_view(columns: list[str] | None, rows: list[list[Any]]) -> Table:
    """A table artifact as a rich table; numeric columns are aligned right, nulls blank."""
    from rich.table import Table
    from rich.text import Text

    width = max([len(columns or []), *(len(r) for r in rows)])
    table = Table(show_header=columns is not None, header_style="bold", show_lines=False)
    for i in range(width):
        numbers = [r[i] for r in rows if i < len(r) and r[i] is not None]
        numeric = bool(numbers) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in numbers
        )
        title = columns[i] if columns is not None and i < len(columns) else ""
        table.add_column(Text(title), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(Text(_cell_text(row[i]) if i < len(row) else "") for i in range(width)))
    return table


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
