"""The API over a store of realistic size: 10,000 flow runs and 100,000 task runs.

Pages across the whole store agree with the counts and with each other, whatever
the filter and the sort. Nothing here is timed: ``time_api.py`` times the same
queries on ten times as many runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.seed import Seeded, seed

from cadenza.store.sql import SqlStore
from tests.server.api.conftest import Api, LiveServer

pytestmark = pytest.mark.slow

FLOW_RUNS = 10_000
TASK_RUNS = 100_000
BIG_RUN_TASKS = 10_000


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Seeded]]:
    folder: Path = tmp_path_factory.mktemp("large")
    store = SqlStore(f"sqlite:///{folder / 'large.db'}")
    info = seed(
        store,
        flow_runs=FLOW_RUNS,
        task_runs=TASK_RUNS,
        big_run_tasks=BIG_RUN_TASKS,
        days=30,
        end=1_780_000_000.0,
        batch_runs=2_000,
    )
    server = LiveServer(store).start()
    with httpx.Client(base_url=server.url + "/api", timeout=60) as client:
        yield Api(client), info
    server.stop()
    store.close()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": "FAILED,CRASHED"},
        {"state": ["COMPLETED", "TimedOut"]},
        {"tag": "gpu"},
        {"tag": ["nightly", "team-ml"], "state": "COMPLETED"},
        {"flow": "flow-03", "top_level": "true"},
        {"since": "1778000000", "until": "1779000000"},
    ],
    ids=["all", "failed", "completed-or-timedout", "tag", "tags-and-state", "flow", "window"],
)
def test_pages_cover_exactly_what_the_count_counts(
    large: tuple[Api, Seeded], params: dict[str, object]
) -> None:
    api, _ = large
    count = api.get("/flow_runs/count", **params)["count"]
    assert count > 0
    newest = api.pages("/flow_runs", 500, **params)
    oldest = api.pages("/flow_runs", 500, sort="oldest", **params)
    ids = [r["id"] for r in newest]
    assert len(ids) == len(set(ids)) == count
    assert ids == sorted(ids, reverse=True)
    assert [r["id"] for r in oldest] == ids[::-1]
    if "since" not in params:
        stats = api.get(
            "/flow_runs/stats", since="1770000000", until="1780000001", bucket="1d", **params
        )
        assert stats["total"] == count


def test_the_state_filter_agrees_with_the_stats(large: tuple[Api, Seeded]) -> None:
    api, info = large
    stats = api.get("/flow_runs/stats", since="1770000000", until="1780000001", bucket="1w")
    assert stats["total"] == info.flow_runs
    for state_type, n in stats["totals"].items():
        assert api.get("/flow_runs/count", state=state_type)["count"] == n


def test_a_run_with_ten_thousand_task_runs(large: tuple[Api, Seeded]) -> None:
    api, info = large
    run = api.get(f"/flow_runs/{info.big_run_id}")
    assert run["task_run_counts"] == {"COMPLETED": BIG_RUN_TASKS}
    rows = api.pages(f"/flow_runs/{info.big_run_id}/task_runs", 1000)
    assert len(rows) == BIG_RUN_TASKS
    assert [r["name"] for r in rows[:2]] == ["step-0-0", "step-1-1"]
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids)
    lines: list[str] = []
    after = None
    while True:
        page = api.get(
            f"/flow_runs/{info.big_run_id}/logs",
            limit=1000,
            **({"after_id": after} if after else {}),
        )
        lines += [line["message"] for line in page["items"]]
        if not page["has_more"]:
            break
        after = page["next_after_id"]
    assert len(lines) == BIG_RUN_TASKS + 2
    detail = api.get(f"/task_runs/{rows[5000]['id']}")
    assert detail["inputs"] == {"x": {"type": "int", "value": 5000}}
    task_logs = api.get(f"/task_runs/{rows[5000]['id']}/logs")["items"]
    assert [line["message"] for line in task_logs] == ["step 5000"]


def test_flows_count_every_run(large: tuple[Api, Seeded]) -> None:
    api, info = large
    flows = api.get("/flows")["items"]
    assert sum(f["run_count"] for f in flows) == info.flow_runs
