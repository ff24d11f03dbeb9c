"""Artifacts: listing (by key, latest only, of a run, in pages), by id and by key."""

from __future__ import annotations

import pytest

from tests.server.api.conftest import Api
from tests.server.api.sample import Sample


def test_artifacts_newest_first_without_content(sample_api: Api, sample: Sample) -> None:
    page = sample_api.get("/artifacts")
    a = sample.artifacts
    newest_first = [a["report-v2"], a["link"], a["scores"], a["report-v1"]]
    assert [i["id"] for i in page["items"]] == newest_first
    assert page["next_cursor"] is None
    newest = page["items"][0]
    assert "data" not in newest
    assert (newest["key"], newest["version"], newest["type"]) == ("etl-report", 2, "markdown")
    assert newest["flow_run_id"] is None
    assert newest["created"].endswith("Z")


@pytest.mark.parametrize("size", [1, 3])
def test_artifact_pages_have_no_gaps(sample_api: Api, sample: Sample, size: int) -> None:
    everything = [i["id"] for i in sample_api.get("/artifacts")["items"]]
    assert [i["id"] for i in sample_api.pages("/artifacts", size)] == everything


def test_artifact_filters(sample_api: Api, sample: Sample) -> None:
    a = sample.artifacts

    def found(**params: str) -> list[str]:
        return [i["id"] for i in sample_api.get("/artifacts", **params)["items"]]

    assert found(key="etl-report") == [a["report-v2"], a["report-v1"]]
    assert found(key="etl-report", latest_only="true") == [a["report-v2"]]
    assert found(latest_only="true") == [a["report-v2"], a["link"], a["scores"]]
    train = sample.runs["train-failed"]
    assert found(flow_run_id=train.id) == [a["scores"]]
    assert found(task_run_id=sample.tasks["fit"].id) == [a["scores"]]
    assert found(key="nothing-here") == []


def test_artifacts_of_a_flow_run(sample_api: Api, sample: Sample) -> None:
    a = sample.artifacts
    train, sub = sample.runs["train-failed"], sample.runs["evaluate"]
    assert [i["id"] for i in sample_api.get(f"/flow_runs/{train.id}/artifacts")["items"]] == [
        a["scores"]
    ]
    assert [i["id"] for i in sample_api.get(f"/flow_runs/{sub.id}/artifacts")["items"]] == [
        a["link"]
    ]
    assert sample_api.get("/flow_runs/nope/artifacts", expect=404)["code"] == "NOT_FOUND"


def test_one_artifact_with_its_content(sample_api: Api, sample: Sample) -> None:
    a = sample.artifacts
    table = sample_api.get(f"/artifacts/{a['scores']}")
    assert table["data"] == {"columns": ["m"], "rows": [[1]]}
    assert (table["type"], table["key"], table["version"]) == ("table", "scores", 1)
    assert table["task_run_id"] == sample.tasks["fit"].id
    link = sample_api.get(f"/artifacts/{a['link']}")
    assert link["data"] == {"link": "https://example.org", "link_text": None}
    assert (link["key"], link["version"]) == (None, None)
    assert sample_api.get("/artifacts/nope", expect=404) == {
        "code": "NOT_FOUND",
        "message": "There is no artifact with id 'nope'.",
    }


def test_artifacts_by_key_and_version(sample_api: Api, sample: Sample) -> None:
    current = sample_api.get("/artifacts/key/etl-report")
    assert (current["id"], current["data"], current["version"]) == (
        sample.artifacts["report-v2"],
        "# v2",
        2,
    )
    first = sample_api.get("/artifacts/key/etl-report", version=1)
    assert (first["data"], first["description"]) == ("# v1", "first")
    assert sample_api.get("/artifacts/key/etl-report", version=3, expect=404) == {
        "code": "NOT_FOUND",
        "message": "Artifact 'etl-report' has no version 3.",
    }
    assert sample_api.get("/artifacts/key/unknown-key", expect=404) == {
        "code": "NOT_FOUND",
        "message": "There is no artifact with key 'unknown-key'.",
    }


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/artifacts/key/Bad_Key", {}, "key"),
        ("/artifacts/key/etl-report", {"version": "0"}, "version"),
        ("/artifacts", {"key": "has space"}, "key"),
        ("/artifacts", {"latest_only": "perhaps"}, "latest_only"),
        ("/artifacts", {"limit": "501"}, "limit"),
    ],
)
def test_bad_artifact_parameters(
    sample_api: Api, path: str, params: dict[str, str], field: str
) -> None:
    body = sample_api.get(path, expect=400, **params)
    assert body["code"] == "INVALID_PARAMETER_VALUE"
    assert body["details"][0]["field"] == field
