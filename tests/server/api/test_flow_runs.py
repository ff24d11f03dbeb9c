"""``GET /api/flow_runs`` (filters, sorting, pages, count), one flow run, its subflows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.api.conftest import Api
from tests.server.api.sample import BULK, Sample
from tests.store.make import T0


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in items]


def test_the_first_page_is_the_newest_runs(sample_api: Api, sample: Sample) -> None:
    page = sample_api.get("/flow_runs", limit=3)
    newest = sample.all_runs()[::-1]
    assert ids(page["items"]) == ids([{"id": r.id} for r in newest[:3]])
    assert page["next_cursor"] == newest[2].id
    run = page["items"][0]
    assert run["flow_name"] == "bulk"
    assert set(run) >= {"state", "created", "created_epoch", "start_time_epoch", "entrypoint"}
    assert "history" not in run


def test_a_run_as_listed(sample_api: Api, sample: Sample) -> None:
    train = sample.runs["train-failed"]
    (run,) = sample_api.get("/flow_runs", flow="train", state="failed")["items"]
    assert run["id"] == train.id
    assert run["name"] == train.name
    assert run["tags"] == ["gpu", "nightly"]
    assert run["parameters"] == {"lr": 0.1, "epochs": 3}
    assert run["state"]["type"] == "FAILED"
    assert run["state"]["name"] == "Failed"
    assert run["state"]["message"] == "ValueError: the loss is NaN"
    assert run["created"] == "2025-06-15T15:06:50.000Z"
    assert run["created_epoch"] == T0 + 10
    assert run["duration_seconds"] == pytest.approx(run["end_time_epoch"] - run["start_time_epoch"])
    assert run["end_time"].endswith("Z")
    assert (run["hostname"], run["pid"], run["entrypoint"]) == (
        "elsewhere",
        4242,
        "flows/train.py:train",
    )
    assert run["parent_flow_run_id"] is None


def names_of(sample: Sample, *names: str) -> list[str]:
    return [sample.runs[n].id for n in names]


FILTERS: dict[str, tuple[dict[str, Any], list[str] | str]] = {
    "flow": ({"flow": "etl"}, ["many", "etl-scheduled", "etl-crashed", "etl-running", "etl-ok"]),
    "unknown flow": ({"flow": "nope"}, []),
    "state type, any case": ({"state": "crashed"}, ["etl-crashed"]),
    "state name": ({"state": "Cached"}, []),
    "state types repeated": (
        {"state": ["RUNNING", "SCHEDULED"], "flow": "etl"},
        ["etl-scheduled", "etl-running"],
    ),
    "state types with commas": ({"state": "running,scheduled"}, ["etl-scheduled", "etl-running"]),
    "tag": ({"tag": "gpu"}, ["train-failed"]),
    "tags all": ({"tag": ["nightly", "gpu"]}, ["train-failed"]),
    "since ISO": (
        {"since": "2025-06-15T15:07:10Z", "flow": "etl"},
        ["many", "etl-scheduled", "etl-crashed", "etl-running"],
    ),
    "since and until as epoch": (
        {"since": str(T0 + 10), "until": str(T0 + 31)},
        ["etl-running", "train-cached", "evaluate", "train-failed"],
    ),
    "until with an offset": (
        {"until": "2025-06-15T17:06:50+02:00"},
        ["etl-ok"],
    ),
    "parent": ("parent", ["evaluate"]),
    "top level": (
        {"top_level": "true", "flow": "train"},
        ["train-cached", "train-failed"],
    ),
    "not top level": ({"top_level": "false", "flow": "evaluate"}, ["evaluate"]),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_filters(sample_api: Api, sample: Sample, case: str) -> None:
    params, expected = FILTERS[case]
    if params == "parent":
        params = {"parent": sample.runs["train-failed"].id}
    assert isinstance(params, dict) and isinstance(expected, list)
    found = sample_api.get("/flow_runs", **params)["items"]
    assert ids(found) == names_of(sample, *expected)
    assert sample_api.get("/flow_runs/count", **params) == {"count": len(expected)}


def test_state_names_and_types_together(sample_api: Api, sample: Sample) -> None:
    found = sample_api.get("/flow_runs", state=["Crashed", "TimedOut", "failed"], flow="etl")
    assert ids(found["items"]) == names_of(sample, "etl-crashed")
    failed = sample_api.get("/flow_runs", state="FAILED", tag="odd")
    assert len(failed["items"]) == BULK // 2


@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("size", [1, 7, 50])
def test_pages_have_no_gaps_or_repeats(
    sample_api: Api, sample: Sample, sort: str, size: int
) -> None:
    everything = [r.id for r in sample.all_runs()]
    expected = everything if sort == "oldest" else everything[::-1]
    assert ids(sample_api.pages("/flow_runs", size, sort=sort)) == expected
    failed = [r.id for i, r in enumerate(sample.bulk) if i % 2 == 1]
    got = ids(sample_api.pages("/flow_runs", size, sort=sort, flow="bulk", state="failed"))
    assert got == (failed if sort == "oldest" else failed[::-1])


def test_the_last_page_has_no_cursor(sample_api: Api, sample: Sample) -> None:
    total = len(sample.all_runs())
    page = sample_api.get("/flow_runs", limit=total)
    assert len(page["items"]) == total
    assert page["next_cursor"] is None
    assert sample_api.get("/flow_runs/count") == {"count": total}


def test_one_flow_run_with_history_and_task_run_counts(sample_api: Api, sample: Sample) -> None:
    train = sample.runs["train-failed"]
    run = sample_api.get(f"/flow_runs/{train.id}")
    assert run["id"] == train.id
    assert [s["name"] for s in run["history"]] == ["Pending", "Running", "Failed"]
    failed = run["history"][-1]
    assert failed["error_type"] == "ValueError"
    assert failed["traceback"].startswith("Traceback")
    assert failed["timestamp"].endswith("Z")
    assert run["state"] == failed
    assert run["task_run_counts"] == {"COMPLETED": 2, "FAILED": 1}
    assert (run["can_cancel"], run["can_retry"]) == (False, True)
    running = sample_api.get(f"/flow_runs/{sample.runs['etl-running'].id}")
    assert (running["can_cancel"], running["can_retry"]) == (True, False)
    crashed = sample_api.get(f"/flow_runs/{sample.runs['etl-crashed'].id}")
    assert (crashed["can_cancel"], crashed["can_retry"]) == (False, False)  # no entrypoint
    scheduled = sample_api.get(f"/flow_runs/{sample.runs['etl-scheduled'].id}")
    assert scheduled["state"]["data"] == {"scheduled_time": T0 + 600}
    assert scheduled["task_run_counts"] == {}


def test_subflows_of_a_run(sample_api: Api, sample: Sample) -> None:
    train = sample.runs["train-failed"]
    page = sample_api.get(f"/flow_runs/{train.id}/subflows")
    assert ids(page["items"]) == names_of(sample, "evaluate")
    sub = page["items"][0]
    assert sub["parent_flow_run_id"] == train.id
    assert sub["parent_task_run_id"] == sample.tasks["evaluate-slot"].id
    assert page["next_cursor"] is None
    etl = sample.runs["etl-ok"]
    assert sample_api.get(f"/flow_runs/{etl.id}/subflows") == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "path", ["/flow_runs/{}", "/flow_runs/{}/subflows", "/flow_runs/{}/task_runs"]
)
def test_unknown_and_partial_ids_are_not_found(sample_api: Api, sample: Sample, path: str) -> None:
    prefix = sample.runs["etl-ok"].id[:13]
    for unknown in ("01890000-0000-7000-8000-000000000000", prefix):
        body = sample_api.get(path.format(unknown), expect=404)
        assert body == {
            "code": "NOT_FOUND",
            "message": f"There is no flow run with id {unknown!r}.",
        }
