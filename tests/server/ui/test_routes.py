"""The UI's routes over a store filled in bulk, without a browser: pages of runs,
the timeline's data, the log tail, state polling, and a server without a key."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from cadenza.events import LogEmitted
from cadenza.runs import LogEntry
from cadenza.server.app import create_app
from cadenza.server.ui import logs
from cadenza.states import StateType
from cadenza.store.base import FlowRunFilter
from cadenza.store.sql import SqlStore
from tests.server.ui.bulk import seed_big_run, seed_many
from tests.server.ui.conftest import free_port


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path / 'ui.db'}")
    yield s
    s.close()


@pytest.fixture
def client(store: SqlStore) -> Iterator[httpx.Client]:
    """A client of the app served by uvicorn in a thread on 127.0.0.1."""
    app = create_app(store, services=[], api_key="")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=30) as c:
        yield c
    server.should_exit = True
    thread.join(10)


def _run_ids(html: str) -> list[str]:
    return re.findall(r'<a href="/runs/([0-9a-f-]{36})" class="run-link">', html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a class="button" href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_runs_pages_go_older_and_back_newer_without_gaps(
    store: SqlStore, client: httpx.Client
) -> None:
    seed_many(store, flow_runs=130, tasks_per_run=0)
    everything = [r.id for r in store.list_flow_runs(limit=1000)]
    first = client.get("/runs").text
    assert _run_ids(first) == everything[:50]
    assert _link(first, "prev") is None
    second = client.get(_link(first, "next") or "").text
    assert _run_ids(second) == everything[50:100]
    third = client.get(_link(second, "next") or "").text
    assert _run_ids(third) == everything[100:130]
    assert _link(third, "next") is None
    back = client.get(_link(third, "prev") or "").text
    assert _run_ids(back) == everything[50:100]
    assert _run_ids(client.get(_link(back, "prev") or "").text) == everything[:50]


def test_runs_pages_keep_their_filters(store: SqlStore, client: httpx.Client) -> None:
    seed_many(store, flow_runs=600, tasks_per_run=0)
    wanted = FlowRunFilter(flow_name="train", state_types=[StateType.COMPLETED])
    expected = [r.id for r in store.list_flow_runs(wanted, limit=1000)]
    assert len(expected) > 50
    page = client.get("/runs", params={"flow": "train", "state": "COMPLETED"}).text
    older = _link(page, "next") or ""
    assert "flow=train" in older and "state=COMPLETED" in older
    assert _run_ids(page) + _run_ids(client.get(older).text) == expected[:100]


def test_bad_filters_say_what_is_allowed(client: httpx.Client) -> None:
    answer = client.get("/runs", params={"state": "SLEEPY"})
    assert answer.status_code == 400
    assert "Unknown state &#39;SLEEPY&#39;; use one of SCHEDULED" in answer.text


def test_timeline_data_nests_subflows_and_keeps_the_attempts_of_retried_runs(
    store: SqlStore, client: httpx.Client
) -> None:
    run_id = seed_big_run(store, tasks=400, subflows=4)
    answer = client.get(f"/ui/runs/{run_id}/timeline.json", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    data = answer.json()
    assert data["rows"] == 400 + 4 * 5
    assert set(data) >= {"id", "name", "kind", "depth", "state", "start", "end", "runs"}
    subflows = [i for i, kind in enumerate(data["kind"]) if kind == 1]
    assert len(subflows) == 4
    for i in subflows:
        assert data["name"][i].startswith("evaluate / sub-")
        assert data["depth"][i + 1 : i + 6] == [1] * 5  # its five task runs, under it
        assert data["name"][i + 1] == "score-0"
    retried = [i for i, n in enumerate(data["runs"]) if n > 1]
    assert retried and sorted(int(k) for k in data["segments"]) == retried
    states = data["states"]
    for k in data["segments"]:
        names = [states[code] for _, code in data["segments"][k]]
        assert names[:2] == ["Pending", "Running"] and "Retrying" in names
    assert data["run"]["final"] is True
    again = client.get(f"/ui/runs/{run_id}/timeline.json").json()  # cached: the same
    assert again["id"] == data["id"]
    assert client.get("/ui/runs/nope/timeline.json").status_code == 404


def test_the_log_tail_pages_through_many_lines(
    store: SqlStore, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "PAGE", 10)
    run_id = seed_big_run(store, tasks=20, subflows=0)
    store.apply(
        [LogEmitted(LogEntry(run_id, None, 20, "x", f"line <{i}>", 2e9 + i)) for i in range(25)]
    )
    page = client.get(f"/runs/{run_id}").text
    assert page.count('class="log-line level') == 10
    assert "Load more lines" in page
    url = re.search(r'id="log-tail" class="log-tail" hx-get="([^"]+)"', page)
    assert url
    seen = 10
    next_url: str | None = url.group(1).replace("&amp;", "&")
    while next_url:
        fragment = client.get(next_url).text
        seen += fragment.count('class="log-line level')
        found = re.search(r'hx-get="([^"]+)"', fragment.split("log-tail", 1)[1])
        next_url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == 25 + 1  # and the line of the big run's first task
    assert "line &lt;24&gt;" in fragment and "End of the log." in fragment


def test_the_page_reloads_only_when_the_state_changed(
    store: SqlStore, client: httpx.Client
) -> None:
    run_id = seed_big_run(store, tasks=2, subflows=0)
    run = store.read_flow_run(run_id)
    assert run is not None and run.state is not None
    shown = repr(run.state.timestamp)
    assert client.get(f"/ui/runs/{run_id}/status", params={"ts": shown}).status_code == 204
    changed = client.get(f"/ui/runs/{run_id}/status", params={"ts": "1.0"})
    assert changed.status_code == 200 and changed.headers["hx-refresh"] == "true"


def test_without_an_api_key_there_is_no_login(client: httpx.Client) -> None:
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Log out" not in home.text


def test_ids_of_the_other_kind_or_prefixes_lead_to_their_page(
    store: SqlStore, client: httpx.Client
) -> None:
    run_id = seed_big_run(store, tasks=3, subflows=0)
    (task,) = store.list_task_runs(run_id, limit=1)
    answer = client.get(f"/runs/{task.id}", follow_redirects=False)
    assert answer.headers["location"] == f"/task-runs/{task.id}"
    answer = client.get(f"/task-runs/{run_id}", follow_redirects=False)
    assert answer.headers["location"] == f"/runs/{run_id}"
    answer = client.get(f"/runs/{run_id[:20]}", follow_redirects=False)
    assert answer.headers["location"] == f"/runs/{run_id}"
