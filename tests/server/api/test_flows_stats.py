"""``GET /api/flows`` and the dashboard's ``GET /api/flow_runs/stats``."""

from __future__ import annotations

import time

import pytest

from cadenza.states import Completed, Failed, Pending, Running
from cadenza.store.sql import SqlStore
from tests.server.api.conftest import Api
from tests.server.api.sample import BULK, Sample
from tests.store import make
from tests.store.make import T0


def test_flows_with_run_counts_and_latest_state(sample_api: Api, sample: Sample) -> None:
    flows = sample_api.get("/flows")["items"]
    assert [(f["name"], f["run_count"]) for f in flows] == [
        ("bulk", BULK),
        ("etl", 5),
        ("evaluate", 1),
        ("train", 2),
    ]
    bulk = flows[0]
    assert bulk["last_run_epoch"] == sample.bulk[-1].created
    assert bulk["last_run"].endswith("Z")
    assert (bulk["last_state"]["type"], bulk["last_state"]["name"]) == ("FAILED", "Failed")
    assert set(bulk) == {
        "id",
        "name",
        "created",
        "created_epoch",
        "run_count",
        "last_run",
        "last_run_epoch",
        "last_state",
    }


def test_stats_count_runs_per_bucket_and_state(sample_api: Api, sample: Sample) -> None:
    stats = sample_api.get(
        "/flow_runs/stats", since=str(T0 + 100), until=str(T0 + 140), bucket="20s"
    )
    assert (stats["since_epoch"], stats["until_epoch"], stats["bucket_seconds"]) == (
        T0 + 100,
        T0 + 140,
        20,
    )
    assert stats["totals"] == {"COMPLETED": BULK // 2, "FAILED": BULK // 2}
    assert stats["total"] == BULK
    assert [b["start_epoch"] for b in stats["buckets"]] == [T0 + 100, T0 + 120]
    assert [b["counts"] for b in stats["buckets"]] == [
        {"COMPLETED": 10, "FAILED": 10},
        {"COMPLETED": 10, "FAILED": 10},
    ]
    assert stats["buckets"][0]["start"] == "2025-06-15T15:08:20.000Z"
    odd = sample_api.get(
        "/flow_runs/stats", since=str(T0 + 100), until=str(T0 + 140), bucket="40", tag="odd"
    )
    assert odd["totals"] == {"FAILED": BULK // 2}
    # Buckets start at multiples of their width since the epoch.
    assert [b["start_epoch"] for b in odd["buckets"]] == [T0 + 80, T0 + 120]
    assert [b["total"] for b in odd["buckets"]] == [10, 10]


def test_stats_list_empty_buckets_and_default_to_the_last_day(api: Api, store: SqlStore) -> None:
    now = time.time()
    run = make.flow_run(created=now - 7200)
    store.apply(
        make.lifecycle(run, Pending(timestamp=run.created), Running(), Completed())
        + make.lifecycle(make.flow_run(created=now - 2 * 86400), Pending(), Failed())
    )
    stats = api.get("/flow_runs/stats")
    assert stats["until_epoch"] == pytest.approx(now, abs=60)
    assert stats["until_epoch"] - stats["since_epoch"] == 86400
    assert stats["bucket_seconds"] == 3600
    assert len(stats["buckets"]) in (24, 25)
    assert stats["totals"] == {"COMPLETED": 1}
    assert sum(1 for b in stats["buckets"] if b["total"]) == 1
    assert all(b["counts"] == {} for b in stats["buckets"] if not b["total"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bucket": "0"}, "bucket"),
        ({"bucket": "soon"}, "bucket"),
        ({"bucket": "1s"}, "bucket"),  # 86400 buckets in a day
        ({"since": "2025-01-01", "until": "2024-01-01"}, "until"),
        ({"since": "not-a-date"}, "since"),
    ],
)
def test_bad_stats_parameters(sample_api: Api, params: dict[str, str], field: str) -> None:
    body = sample_api.get("/flow_runs/stats", expect=400, **params)
    assert body["code"] == "INVALID_PARAMETER_VALUE"
    assert body["details"][0]["field"] == field
