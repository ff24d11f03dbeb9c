"""Pieces of the pages without a browser: the chart, artifacts as HTML, formats."""

from __future__ import annotations

import subprocess
import sys

from cadenza.runs import Artifact
from cadenza.server.ui.artifact_html import artifact_html, markdown_html, safe_href, table_html
from cadenza.server.ui.chart import RANGES, bucket_starts, stacked_bars
from cadenza.server.ui.format import duration, input_text, one_line
from cadenza.states import StateType


def test_stacked_bars_put_each_state_of_a_bucket_on_top_of_the_previous() -> None:
    now = 1_800_000_000.0
    day = RANGES["24h"]
    starts = bucket_starts(now, day)
    assert len(starts) == 48 and starts[-1] <= now < starts[-1] + day.bucket_seconds
    rows = [
        (starts[-1], StateType.COMPLETED, 6),
        (starts[-1], StateType.FAILED, 2),
        (starts[0], StateType.RUNNING, 1),
        (starts[0] - day.bucket_seconds, StateType.FAILED, 9),  # before the range: left out
    ]
    chart = stacked_bars(rows, now=now, time_range=day)
    assert chart.total == 9
    assert chart.totals == {StateType.COMPLETED: 6, StateType.FAILED: 2, StateType.RUNNING: 1}
    last = chart.bars[-1]
    completed, failed = last.segments
    assert completed.state is StateType.COMPLETED and failed.state is StateType.FAILED
    assert completed.y + completed.height == chart.plot_bottom  # at the bottom
    assert abs(failed.y + failed.height - completed.y) < 0.02  # right on top of it
    assert completed.height == 3 * failed.height
    assert "6 completed, 2 failed" in last.title
    assert [label for _, label in chart.y_ticks][-1] == "8"
    assert all(not b.segments for b in chart.bars[1:-1])


def test_an_empty_chart_still_has_an_axis() -> None:
    chart = stacked_bars([], now=1_800_000_000.0, time_range=RANGES["7d"])
    assert chart.total == 0 and len(chart.bars) == 28 and chart.y_ticks


def test_markdown_is_rendered_with_raw_html_shown_as_text() -> None:
    html = str(
        markdown_html("# Title\n\n<script>alert(1)</script>\n\n**bold** [x](javascript:alert(1))")
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    link = str(markdown_html("[docs](https://example.com/a?b=1&c=2)"))
    assert 'href="https://example.com/a?b=1&amp;c=2"' in link
    assert 'rel="noopener noreferrer nofollow"' in link
    table = str(markdown_html("| a | b |\n|---|---|\n| <i>x</i> | 2 |"))
    assert "<table>" in table and "&lt;i&gt;x&lt;/i&gt;" in table


def test_table_artifacts_escape_cells_and_say_how_many_rows_were_left_out() -> None:
    html = str(table_html({"columns": ["<b>c</b>", "n"], "rows": [["<img src=x>", None]] * 600}))
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "&lt;b&gt;c&lt;/b&gt;" in html
    assert html.count("<tr>") == 501  # the header and 500 rows
    assert "100 more rows (600 in all)" in html
    ragged = str(table_html({"columns": None, "rows": [[1, 2, 3], [4]]}))
    assert ragged.count("<td></td>") == 2


def test_link_artifacts_only_link_to_web_addresses() -> None:
    assert safe_href("https://example.com") == "https://example.com"
    assert safe_href("/runs/1") == "/runs/1"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil.example",
    ):
        assert safe_href(bad) is None, bad
    good = str(artifact_html(Artifact("1", "link", {"link": "https://e.com", "link_text": "<e>"})))
    assert good == '<a href="https://e.com" rel="noopener noreferrer nofollow">&lt;e&gt;</a>'
    bad = str(artifact_html(Artifact("2", "link", {"link": "javascript:x()", "link_text": "t"})))
    assert "<a" not in bad and "javascript:x()" in bad


def test_formats() -> None:
    assert [duration(s) for s in (None, 0.0004, 0.25, 12.34, 184, 7500, 200_000)] == [
        "-",
        "<1ms",
        "250ms",
        "12.3s",
        "3m04s",
        "2h05m",
        "2d07h",
    ]
    assert input_text({"type": "int", "value": 3}) == "3 (int)"
    assert input_text({"type": "DataFrame", "shape": [10, 3]}) == "DataFrame of shape 10x3"
    assert input_text({"upstream": ["a", "b"]}) == "from task run a, b"
    assert one_line("first\nsecond") == "first …"


def test_import_cadenza_does_not_import_the_server_packages() -> None:
    code = (
        "import sys, cadenza\n"
        "bad = [m for m in ('fastapi', 'jinja2', 'starlette', 'markdown_it') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
