"""Artifacts as HTML: markdown rendered with raw HTML disabled, tables, links.

Every value that comes from the artifact is escaped; markdown's own links may only
go to http(s), mailto or relative URLs (markdown-it's link check), and open with
``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from cadenza.runs import Artifact

MAX_TABLE_ROWS = 500
"""Rows of a table artifact shown on a page; the rest are counted."""
MAX_MARKDOWN = 200_000
"""Characters of a markdown artifact rendered; the rest are cut."""


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


def markdown_html(text: str) -> Markup:
    """Markdown as HTML; raw HTML in the text is shown as text, not interpreted."""
    if len(text) > MAX_MARKDOWN:
        text = text[:MAX_MARKDOWN] + f"\n\n*… cut: {len(text) - MAX_MARKDOWN:,} more characters*"
    return Markup(_markdown().render(text))


def _cell(value: Any) -> Markup:
    if value is None:
        return Markup('<span class="muted">null</span>')
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool | int | float):
        return escape(json.dumps(value))
    return escape(json.dumps(value, ensure_ascii=False, default=str))


def _width(columns: Any, rows: list[Any]) -> int:
    if columns:
        return len(columns)
    return max((len(r) for r in rows if isinstance(r, list)), default=0)


def table_html(data: Any) -> Markup:
    """A table artifact (``{"columns": [...] or None, "rows": [[...], ...]}``) as a table."""
    if not isinstance(data, dict):
        return Markup("<pre>{}</pre>").format(json.dumps(data, indent=2, default=str))
    rows = data.get("rows") or []
    columns = data.get("columns")
    width = _width(columns, rows)
    parts = ['<div class="table-wrap"><table class="grid artifact-table">']
    if columns:
        parts.append("<thead><tr>")
        parts.extend(f"<th>{_cell(c)}</th>" for c in columns)
        parts.append("</tr></thead>")
    parts.append("<tbody>")
    for row in rows[:MAX_TABLE_ROWS]:
        cells = row if isinstance(row, list) else [row]
        parts.append("<tr>")
        parts.extend(f"<td>{_cell(v)}</td>" for v in cells)
        parts.extend("<td></td>" for _ in range(width - len(cells)))
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    if len(rows) > MAX_TABLE_ROWS:
        parts.append(
            f'<p class="muted small">… and {len(rows) - MAX_TABLE_ROWS:,} more rows '
            f"({len(rows):,} in all).</p>"
        )
    return Markup("".join(parts))


def safe_href(url: str) -> str | None:
    """``url`` if a browser may follow it from a page (http, https, mailto, relative)."""
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https", "mailto"):
        return url
    if not scheme and not url.startswith("//") and ":" not in url.split("/")[0]:
        return url
    return None


def link_html(data: Any) -> Markup:
    if not isinstance(data, dict) or not data.get("link"):
        return Markup("<pre>{}</pre>").format(json.dumps(data, indent=2, default=str))
    link = str(data["link"])
    text = str(data.get("link_text") or link)
    href = safe_href(link)
    if href is None:
        return Markup(
            '<span class="link-text">{}</span> <span class="muted small">({})</span>'
        ).format(text, link)
    return Markup('<a href="{}" rel="noopener noreferrer nofollow">{}</a>').format(href, text)


def artifact_html(artifact: Artifact) -> Markup:
    """The content of an artifact, ready to put in a page."""
    if artifact.type == "markdown" and isinstance(artifact.data, str):
        return markdown_html(artifact.data)
    if artifact.type == "table":
        return table_html(artifact.data)
    if artifact.type == "link":
        return link_html(artifact.data)
    return Markup("<pre>{}</pre>").format(json.dumps(artifact.data, indent=2, default=str))


def summary(artifact: Artifact) -> str:
    """One line about the content: the first line of markdown, a table's size, a link."""
    data = artifact.data
    if artifact.type == "markdown" and isinstance(data, str):
        first = next((ln.strip().lstrip("#").strip() for ln in data.splitlines() if ln.strip()), "")
        return first[:100]
    if artifact.type == "table" and isinstance(data, dict):
        rows = data.get("rows") or []
        return f"{len(rows):,} rows, {_width(data.get('columns'), rows)} columns"
    if artifact.type == "link" and isinstance(data, dict):
        return str(data.get("link_text") or data.get("link") or "")
    return ""
