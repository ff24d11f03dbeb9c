"""Keys, descriptions and contents that cannot be recorded: clear errors, nothing recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cadenza import flow
from cadenza.artifacts import (
    InvalidArtifact,
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from cadenza.exceptions import CadenzaError
from tests.artifacts.conftest import Rows

ALLOWED = "use only lowercase letters (a-z), digits (0-9) and dashes (-)"


@pytest.mark.parametrize("key", ["a", "model-scores", "v2", "2026-01-31", "-", "x" * 255])
def test_valid_keys(key: str, rows: Rows) -> None:
    create_markdown_artifact("ok", key=key)
    assert [r["key"] for r in rows()] == [key]


@pytest.mark.parametrize(
    ("key", "problem", "suggestion"),
    [
        ("Model-Scores", "is not valid", "'model-scores'"),
        ("model_scores", "is not valid", "'model-scores'"),
        ("model scores!", "is not valid", "'model-scores'"),
        ("straße", "is not valid", "'stra-e'"),
        ("", "is empty", None),
        ("x" * 256, "is 256 characters long (at most 255)", None),
    ],
)
def test_invalid_keys_say_what_is_allowed(
    key: str, problem: str, suggestion: str | None, rows: Rows
) -> None:
    with pytest.raises(InvalidArtifact) as info:
        create_table_artifact([{"a": 1}], key=key)
    message = str(info.value)
    assert problem in message
    assert ALLOWED in message
    if suggestion is not None:
        assert f"such as {suggestion}" in message
    assert rows() == []


def test_the_error_is_a_cadenza_error_and_a_value_error() -> None:
    with pytest.raises(ValueError, match="artifact key"):
        create_markdown_artifact("x", key="Bad")
    assert issubclass(InvalidArtifact, CadenzaError)


BAD_CALLS: list[tuple[Callable[..., str], dict[str, Any], str]] = [
    (create_markdown_artifact, {"markdown": 3}, "markdown as a str, not a int"),
    (create_markdown_artifact, {"markdown": "x", "key": 5}, "key must be a str, not a int"),
    (create_markdown_artifact, {"markdown": "x", "description": ["d"]}, "not a list"),
    (create_link_artifact, {"link": ""}, "link as a non-empty str"),
    (create_link_artifact, {"link": None}, "link as a non-empty str"),
    (create_link_artifact, {"link": "https://x.org", "link_text": 1}, "link_text as a str"),
]


@pytest.mark.parametrize(("fn", "kwargs", "message"), BAD_CALLS)
def test_bad_arguments_are_refused(
    fn: Callable[..., str], kwargs: dict[str, Any], message: str, rows: Rows
) -> None:
    with pytest.raises(InvalidArtifact, match=message):
        fn(**kwargs)
    assert rows() == []


def test_a_bad_key_inside_a_flow_fails_the_flow_like_any_error(rows: Rows) -> None:
    @flow
    def pipeline() -> None:
        create_markdown_artifact("report", key="My Report")

    state = pipeline(return_state=True)
    assert state.is_failed()
    assert "'my-report'" in (state.message or "")
    assert rows() == []
