"""Log lines of flow runs and task runs: filters, following a run with ``after_id``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api.conftest import Api
from tests.server.api.sample import Sample


def messages(page: dict[str, Any]) -> list[str]:
    return [line["message"] for line in page["items"]]


def test_logs_of_a_flow_run_and_its_task_runs(sample_api: Api, sample: Sample) -> None:
    etl = sample.runs["etl-ok"]
    page = sample_api.get(f"/flow_runs/{etl.id}/logs")
    assert messages(page) == [
        "etl starts",
        "extract debug",
        "transform info",
        "transform warns",
        "etl ends",
    ]
    assert page["has_more"] is False
    assert page["next_after_id"] == page["items"][-1]["id"]
    line = page["items"][3]
    assert line["task_run_id"] == sample.tasks["transform"].id
    assert line["flow_run_id"] == etl.id
    assert (line["level"], line["level_name"], line["logger"]) == (30, "WARNING", "tests")
    assert line["timestamp"].endswith("Z")
    assert isinstance(line["timestamp_epoch"], float)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"level": "warning"}, ["transform warns"]),
        ({"level": "20"}, ["etl starts", "transform info", "transform warns", "etl ends"]),
        ({"task_run_id": "transform"}, ["transform info", "transform warns"]),
        ({"limit": 2}, ["etl starts", "extract debug"]),
    ],
)
def test_log_filters(
    sample_api: Api, sample: Sample, params: dict[str, Any], expected: list[str]
) -> None:
    if "task_run_id" in params:
        params = {"task_run_id": sample.tasks[params["task_run_id"]].id}
    etl = sample.runs["etl-ok"]
    assert messages(sample_api.get(f"/flow_runs/{etl.id}/logs", **params)) == expected


def test_following_a_run_with_after_id(sample_api: Api, sample: Sample) -> None:
    many = sample.runs["many"]
    seen: list[str] = []
    after = None
    while True:
        page = sample_api.get(
            f"/flow_runs/{many.id}/logs", limit=7, **({"after_id": after} if after else {})
        )
        seen += messages(page)
        if not page["items"]:
            assert page["has_more"] is False
            assert page["next_after_id"] == after  # the same cursor: poll again later
            break
        after = page["next_after_id"]
    assert seen == [f"many {i}" for i in range(30)]


def test_logs_of_subflows_on_request(sample_api: Api, sample: Sample) -> None:
    train = sample.runs["train-failed"]
    path = f"/flow_runs/{train.id}/logs"
    assert messages(sample_api.get(path)) == ["train starts", "fit fails"]
    assert messages(sample_api.get(path, include_subflows="true")) == [
        "train starts",
        "evaluate speaks",
        "score speaks",
        "fit fails",
    ]
    assert messages(sample_api.get(path, include_subflows="true", limit=2)) == [
        "train starts",
        "evaluate speaks",
    ]


def test_logs_of_one_task_run(sample_api: Api, sample: Sample) -> None:
    transform = sample.tasks["transform"]
    page = sample_api.get(f"/task_runs/{transform.id}/logs")
    assert messages(page) == ["transform info", "transform warns"]
    assert messages(sample_api.get(f"/task_runs/{transform.id}/logs", level="WARNING")) == [
        "transform warns"
    ]
    first = page["items"][0]["id"]
    assert messages(sample_api.get(f"/task_runs/{transform.id}/logs", after_id=first)) == [
        "transform warns"
    ]
    quiet = sample.tasks["load"]
    assert sample_api.get(f"/task_runs/{quiet.id}/logs") == {
        "items": [],
        "next_after_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "LOUD"}, "level"),
        ({"level": "101"}, "level"),
        ({"after_id": "-1"}, "after_id"),
        ({"after_id": "x"}, "after_id"),
        ({"limit": "1001"}, "limit"),
        ({"include_subflows": "maybe"}, "include_subflows"),
    ],
)
def test_bad_log_parameters(
    sample_api: Api, sample: Sample, params: dict[str, str], field: str
) -> None:
    etl = sample.runs["etl-ok"]
    body = sample_api.get(f"/flow_runs/{etl.id}/logs", expect=400, **params)
    assert body["code"] == "INVALID_PARAMETER_VALUE"
    assert body["message"].startswith(f"Invalid value for {field!r}: ")
    assert body["details"][0]["field"] == field
