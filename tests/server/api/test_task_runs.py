"""Task runs: the compact rows of a flow run's task runs, and one task run in full."""

from __future__ import annotations

import pytest

from tests.server.api.conftest import Api
from tests.server.api.sample import MANY_TASKS, Sample
from tests.store.make import T0


def test_task_runs_of_a_flow_run_in_compact_rows(sample_api: Api, sample: Sample) -> None:
    train = sample.runs["train-failed"]
    page = sample_api.get(f"/flow_runs/{train.id}/task_runs")
    assert page["next_cursor"] is None
    rows = page["items"]
    assert [r["name"] for r in rows] == ["prepare-0", "evaluate-0", "fit-0"]
    prepare, slot, fit = rows
    assert set(prepare) == {
        "id",
        "name",
        "kind",
        "subflow_run_id",
        "state_type",
        "state_name",
        "start_time",
        "start_time_epoch",
        "end_time",
        "end_time_epoch",
        "duration_seconds",
        "run_count",
    }
    assert (prepare["kind"], prepare["state_type"], prepare["state_name"]) == (
        "task",
        "COMPLETED",
        "Completed",
    )
    assert prepare["run_count"] == 1
    assert prepare["end_time_epoch"] > prepare["start_time_epoch"]
    assert (slot["kind"], slot["subflow_run_id"]) == ("subflow", sample.runs["evaluate"].id)
    assert (fit["state_type"], fit["state_name"]) == ("FAILED", "Failed")


@pytest.mark.parametrize("size", [1, 4, 25, 1000])
def test_task_run_pages_have_no_gaps(sample_api: Api, sample: Sample, size: int) -> None:
    many = sample.runs["many"]
    rows = sample_api.pages(f"/flow_runs/{many.id}/task_runs", size)
    assert [r["id"] for r in rows] == [t.id for t in sample.many_tasks]
    assert len(rows) == MANY_TASKS


def test_a_task_run_with_inputs_history_and_persisted_result(
    sample_api: Api, sample: Sample
) -> None:
    prepare = sample.tasks["prepare"]
    run = sample_api.get(f"/task_runs/{prepare.id}")
    assert run["flow_run_id"] == sample.runs["train-failed"].id
    assert [s["name"] for s in run["history"]] == ["Pending", "Running", "Completed"]
    assert run["result"] == {"location": "/results/abc", "serializer": "pickle", "cache_key": "abc"}
    assert run["cache"] is None
    assert (run["run_count"], run["retries"]) == (1, 0)

    fit = sample_api.get(f"/task_runs/{sample.tasks['fit'].id}")
    assert fit["inputs"] == {
        "data": {"upstream": [prepare.id]},
        "lr": {"type": "float", "value": 0.1},
    }
    assert fit["state"]["name"] == "Failed"
    assert fit["result"] is None


def test_a_cached_task_run_says_where_its_result_came_from(sample_api: Api, sample: Sample) -> None:
    run = sample_api.get(f"/task_runs/{sample.tasks['cached'].id}")
    assert run["state"]["name"] == "Cached"
    assert run["cache"] == {
        "cache_key": "abc",
        "cached_from": sample.tasks["prepare"].id,
        "expires": "2025-06-15T16:06:40.000Z",
        "expires_epoch": T0 + 3600,
    }
    assert run["result"]["location"] == "/results/abc"


def test_an_unknown_task_run_is_not_found(sample_api: Api, sample: Sample) -> None:
    flow_run_id = sample.runs["etl-ok"].id  # a flow run's id is no task run's
    for path in (f"/task_runs/{flow_run_id}", f"/task_runs/{flow_run_id}/logs"):
        assert sample_api.get(path, expect=404) == {
            "code": "NOT_FOUND",
            "message": f"There is no task run with id {flow_run_id!r}.",
        }
