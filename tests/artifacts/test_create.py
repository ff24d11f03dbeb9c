"""Creating artifacts in tasks, flows and outside runs; keys across runs; durability."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import cadenza
from cadenza import flow, task
from cadenza.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from cadenza.store import get_store
from cadenza.store.base import FlowRunFilter, RunStore
from tests.artifacts.conftest import Rows


@pytest.fixture
def no_background_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background writer waits an hour: only flushes write."""
    monkeypatch.setenv("CADENZA_FLUSH_INTERVAL", "3600")
    reset_reporter()
    reset_settings()


def test_in_a_task_the_artifact_belongs_to_the_task_run(rows: Rows, store: RunStore) -> None:
    @task
    def evaluate() -> str:
        return create_markdown_artifact("# Scores\nall good", key="scores-report")

    @flow
    def pipeline() -> str:
        return evaluate()

    artifact_id = pipeline()
    (row,) = rows()
    (run,) = store.list_flow_runs()
    (task_run,) = store.list_task_runs(run.id)
    assert row["id"] == artifact_id
    assert (row["flow_run_id"], row["task_run_id"]) == (run.id, task_run.id)
    assert (row["key"], row["type"], json.loads(row["data"])) == (
        "scores-report",
        "markdown",
        "# Scores\nall good",
    )


def test_in_a_flow_the_artifact_belongs_to_the_flow_run(rows: Rows, store: RunStore) -> None:
    @flow
    def pipeline() -> str:
        return create_link_artifact("https://example.org/report", "the report")

    artifact_id = pipeline()
    (run,) = store.list_flow_runs()
    artifact = store.read_artifact(artifact_id)
    assert artifact is not None
    assert (artifact.flow_run_id, artifact.task_run_id) == (run.id, None)
    assert artifact.data == {"link": "https://example.org/report", "link_text": "the report"}
    assert (artifact.key, artifact.version, artifact.type) == (None, None, "link")
    assert len(rows()) == 1


def test_outside_any_run_the_artifact_has_no_run_and_is_written_at_once(
    rows: Rows, no_background_writes: None
) -> None:
    artifact_id = create_table_artifact({"a": [1, 2]}, key="loose", description="made by hand")
    (row,) = rows()
    assert row["id"] == artifact_id
    assert (row["flow_run_id"], row["task_run_id"]) == (None, None)
    assert row["description"] == "made by hand"
    assert json.loads(row["data"]) == {"columns": ["a"], "rows": [[1], [2]]}


def test_in_a_subflow_the_artifact_belongs_to_the_subflow_run(store: RunStore) -> None:
    @flow
    def child() -> str:
        return create_markdown_artifact("from the child")

    @flow
    def parent() -> str:
        return child()

    artifact_id = parent()
    (sub,) = store.list_flow_runs(FlowRunFilter(flow_name="child"))
    artifact = store.read_artifact(artifact_id)
    assert artifact is not None
    assert artifact.flow_run_id == sub.id


def test_in_a_task_outside_any_flow_the_artifact_has_only_the_task_run() -> None:
    @task
    def alone() -> str:
        return create_markdown_artifact("no flow here")

    artifact_id = alone()
    reset_reporter()  # flushes what the background writer has not written yet
    artifact = get_store().read_artifact(artifact_id)
    assert artifact is not None
    assert artifact.flow_run_id is None
    assert artifact.task_run_id is not None


def test_mapped_and_async_task_runs_each_get_their_artifacts(store: RunStore) -> None:
    @task
    def part(i: int) -> str:
        return create_markdown_artifact(f"part {i}", key="part")

    @task
    async def later(i: int) -> str:
        await asyncio.sleep(0)
        return create_markdown_artifact(f"later {i}")

    @flow
    def pipeline() -> tuple[list[str], str]:
        return part.map(range(4)).result(), asyncio.run(later(9))

    mapped, async_id = pipeline()
    (run,) = store.list_flow_runs()
    task_runs = {t.id: t for t in store.list_task_runs(run.id)}
    for i, artifact_id in enumerate(mapped):
        artifact = store.read_artifact(artifact_id)
        assert artifact is not None
        assert artifact.data == f"part {i}"
        assert task_runs[artifact.task_run_id or ""].name == f"part-{i}"
    async_artifact = store.read_artifact(async_id)
    assert async_artifact is not None
    assert task_runs[async_artifact.task_run_id or ""].name == "later-0"


def test_a_key_versions_an_artifact_across_flow_runs(store: RunStore) -> None:
    @flow
    def nightly(rmse: float) -> str:
        return create_table_artifact([{"rmse": rmse}], key="nightly-scores")

    ids = [nightly(r) for r in (3.0, 2.5, 2.0)]
    runs = list(reversed(store.list_flow_runs()))
    latest = store.read_artifact_by_key("nightly-scores")
    assert latest is not None
    assert (latest.id, latest.version, latest.flow_run_id) == (ids[2], 3, runs[2].id)
    assert latest.data == {"columns": ["rmse"], "rows": [[2.0]]}
    first = store.read_artifact_by_key("nightly-scores", version=1)
    assert first is not None
    assert (first.id, first.flow_run_id) == (ids[0], runs[0].id)
    versions = store.list_artifacts(key="nightly-scores")
    assert [a.version for a in versions] == [3, 2, 1]
    assert [a.id for a in store.list_artifacts(latest_only=True)] == [ids[2]]


def test_artifacts_are_durable_when_the_flow_returns(
    rows: Rows, no_background_writes: None
) -> None:
    @task
    def step(i: int) -> int:
        create_markdown_artifact(f"step {i}", key="steps")
        return i

    @flow
    def pipeline() -> None:
        create_link_artifact("s3://bucket/model.pkl", key="model-file")
        for i in range(3):
            step(i)

    pipeline()
    found = rows()  # read from the file right after the call, by another connection
    assert [r["key"] for r in found] == ["model-file", "steps", "steps", "steps"]


def test_the_content_is_taken_when_the_artifact_is_created(store: RunStore) -> None:
    @flow
    def pipeline() -> str:
        table = [{"a": 1}]
        artifact_id = create_table_artifact(table)
        table.append({"a": 2})
        table[0]["a"] = 100
        return artifact_id

    artifact = store.read_artifact(pipeline())
    assert artifact is not None
    assert artifact.data == {"columns": ["a"], "rows": [[1]]}


def test_ids_are_new_and_increasing(rows: Rows) -> None:
    ids = [create_markdown_artifact(f"n{i}") for i in range(5)]
    assert ids == sorted(set(ids))
    assert [r["id"] for r in rows()] == ids


def test_an_unusable_database_does_not_raise_outside_runs(
    cadenza_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cadenza_home.mkdir()
    (cadenza_home / "cadenza.db").write_bytes(b"not a database" * 500)
    with caplog.at_level(logging.ERROR, logger="cadenza.reporting"):
        artifact_id = create_markdown_artifact("kept in memory")
    assert artifact_id
    assert "Could not record 1 run events" in caplog.text
    assert "is not a readable cadenza database" in caplog.text


def test_the_functions_are_exported_from_cadenza() -> None:
    for name in ("create_markdown_artifact", "create_table_artifact", "create_link_artifact"):
        assert name in cadenza.__all__
        assert getattr(cadenza, name) is getattr(cadenza.artifacts, name)


def test_import_cadenza_imports_neither_sqlalchemy_nor_pandas() -> None:
    code = (
        "import sys, cadenza\n"
        "from cadenza import create_table_artifact\n"
        "from cadenza.artifacts import normalize_table\n"
        "normalize_table([{'a': 1.5}])\n"
        "heavy = [m for m in ('sqlalchemy', 'pandas', 'numpy', 'rich') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
