"""``POST /api/events``: batches of run events from clients, recorded once."""

from __future__ import annotations

import logging

from cadenza.events import Event
from cadenza.events_json import encode_events
from tests.server.api.conftest import Api
from tests.store import make
from tests.store.make import Clock


def batch() -> tuple[list[Event], str, str]:
    clock = Clock()
    run = make.flow_run("remote", entrypoint="flows.py:remote")
    task = make.task_run(run, name="work-0")
    events: list[Event] = [
        *make.completed(run, clock),
        *make.completed(task, clock),
        make.log(run, "hello from afar", timestamp=clock()),
        make.log(task, "working", timestamp=clock(), level=logging.WARNING),
        make.artifact(run, key="remote-report"),
    ]
    return events, run.id, task.id


def test_a_batch_delivered_twice_is_recorded_once(api: Api) -> None:
    events, run_id, task_id = batch()
    body = {"events": encode_events(events)}
    assert api.post("/events", json=body) == {"received": len(events)}
    assert api.post("/events", json=body) == {"received": len(events)}
    (run,) = api.get("/flow_runs")["items"]
    assert (run["id"], run["flow_name"], run["state"]["name"]) == (run_id, "remote", "Completed")
    detail = api.get(f"/flow_runs/{run_id}")
    assert [s["name"] for s in detail["history"]] == ["Pending", "Running", "Completed"]
    assert detail["entrypoint"] == "flows.py:remote"
    assert [t["id"] for t in api.get(f"/flow_runs/{run_id}/task_runs")["items"]] == [task_id]
    logs = api.get(f"/flow_runs/{run_id}/logs")["items"]
    assert [line["message"] for line in logs] == ["hello from afar", "working"]
    assert len(api.get("/artifacts")["items"]) == 1
    # A larger batch starting with the same events records only what is new.
    more, other_run, _ = batch()
    api.post("/events", json={"events": encode_events(events + more)})
    assert api.get("/flow_runs/count") == {"count": 2}
    assert len(api.get(f"/flow_runs/{run_id}/logs")["items"]) == 2
    assert len(api.get(f"/flow_runs/{other_run}/logs")["items"]) == 2


def test_malformed_batches_are_refused_whole(api: Api) -> None:
    events, _, _ = batch()
    good = encode_events(events)
    for body, says in [
        ({"events": [*good, {"kind": "telepathy"}]}, f"event {len(good)}: unknown kind"),
        ({"events": [{"kind": "flow_run_state", "state": {}}]}, "missing 'run_id'"),
        ({"events": "all of them"}, "'events'"),
        ({}, "'events'"),
    ]:
        response = api.client.post("/events", json=body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "INVALID_PARAMETER_VALUE"
        assert says in response.json()["message"]
    assert api.get("/flow_runs/count") == {"count": 0}
    response = api.client.post(
        "/events", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PARAMETER_VALUE"
