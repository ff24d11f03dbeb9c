"""Errors as ``{"code", "message"}`` bodies, the API key, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cadenza.server.api.errors import ERROR_CODE_TO_HTTP_STATUS
from cadenza.settings import reset_settings
from cadenza.store.sql import SqlStore
from tests.server.api.conftest import Api, LiveServer


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"limit": "0"}, "limit", "greater than or equal to 1"),
        ({"limit": "501"}, "limit", "less than or equal to 500"),
        ({"limit": "ten"}, "limit", "valid integer"),
        ({"state": "finished"}, "state", "'finished' is neither a state type nor a state name"),
        ({"state": ["FAILED", "Nope"]}, "state", "'Nope'"),
        ({"since": "last tuesday"}, "since", "is not a time"),
        ({"until": "2026-13-01"}, "until", "is not a time"),
        ({"since": "nan"}, "since", "is not a time"),
        ({"since": "2026-01-02", "until": "2026-01-01"}, "until", "later than 'since'"),
        ({"sort": "random"}, "sort", "'newest' or 'oldest'"),
        ({"top_level": "sometimes"}, "top_level", "valid boolean"),
        ({"cursor": "x" * 65}, "cursor", "at most 64 characters"),
        ({"tag": ""}, "tag", "cannot be empty"),
        ({"state_type": "FAILED"}, "state_type", "Unknown query parameter 'state_type'"),
    ],
)
def test_bad_parameters_are_named_in_a_400(
    sample_api: Api, params: dict[str, str], field: str, says: str
) -> None:
    body = sample_api.get("/flow_runs", expect=400, **params)
    assert body["code"] == "INVALID_PARAMETER_VALUE"
    assert field in body["message"]
    assert says in body["message"]
    assert body["details"][0]["field"] == field


def test_count_refuses_what_the_list_refuses(sample_api: Api) -> None:
    body = sample_api.get("/flow_runs/count", expect=400, limit="10")
    assert body["message"].startswith("Unknown query parameter 'limit'; this endpoint takes: ")
    assert sample_api.get("/flow_runs/count", expect=400, state="nope")["details"] == [
        {"field": "state", "message": body_message("nope")}
    ]


def body_message(state: str) -> str:
    return (
        f"{state!r} is neither a state type nor a state name: use SCHEDULED, PENDING, RUNNING, "
        "COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING, Late, AwaitingRetry, "
        "Retrying, Cached, TimedOut."
    )


def test_unknown_routes_and_methods(sample_api: Api) -> None:
    assert sample_api.get("/nothing-here", expect=404) == {
        "code": "NOT_FOUND",
        "message": "Not Found",
    }
    response = sample_api.client.delete("/flow_runs")
    assert response.status_code == 405
    assert response.json() == {"code": "METHOD_NOT_ALLOWED", "message": "Method Not Allowed"}


def test_every_error_code_has_a_status() -> None:
    assert all(400 <= s < 600 for s in ERROR_CODE_TO_HTTP_STATUS.values())
    assert ERROR_CODE_TO_HTTP_STATUS["INVALID_STATE"] == 409


# -- the API key -----------------------------------------------------------------------------
@pytest.fixture
def keyed(store: SqlStore) -> Iterator[LiveServer]:
    server = LiveServer(store, api_key="s3cret-key").start()
    yield server
    server.stop()


PROTECTED = [
    ("GET", "/flow_runs"),
    ("GET", "/flow_runs/count"),
    ("GET", "/flow_runs/stats"),
    ("GET", "/flow_runs/01890000-0000-7000-8000-000000000000"),
    ("GET", "/flow_runs/01890000-0000-7000-8000-000000000000/task_runs"),
    ("GET", "/flow_runs/01890000-0000-7000-8000-000000000000/logs"),
    ("GET", "/task_runs/01890000-0000-7000-8000-000000000000"),
    ("GET", "/artifacts"),
    ("GET", "/artifacts/key/report"),
    ("GET", "/flows"),
    ("POST", "/flow_runs/01890000-0000-7000-8000-000000000000/cancel"),
    ("POST", "/flow_runs/01890000-0000-7000-8000-000000000000/retry"),
    ("POST", "/events"),
]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"}],
    ids=["none", "wrong", "no-scheme"],
)
def test_without_the_key_every_route_but_health_is_refused(
    keyed: LiveServer, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=keyed.url + "/api", headers=headers) as client:
        for method, path in PROTECTED:
            response = client.request(method, path, json={"events": []})
            assert response.status_code == 401, (method, path)
            body = response.json()
            assert body["code"] == "UNAUTHENTICATED"
            assert "Authorization: Bearer <key>" in body["message"]
        assert client.get("/health").status_code == 200


def test_with_the_key_the_api_answers(keyed: LiveServer) -> None:
    with keyed.client("s3cret-key") as client:
        assert client.get("/flow_runs").json() == {"items": [], "next_cursor": None}
        assert client.get("/flow_runs/nope").status_code == 404
    with httpx.Client(headers={"authorization": "bearer s3cret-key"}) as client:
        assert client.get(keyed.url + "/api/flows").status_code == 200


def test_the_key_comes_from_the_environment_by_default(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CADENZA_SERVER_API_KEY", "from-env")
    reset_settings()
    server = LiveServer(store, api_key=None).start()
    try:
        with server.client() as client:
            assert client.get("/flows").status_code == 401
        with server.client("from-env") as client:
            assert client.get("/flows").status_code == 200
    finally:
        server.stop()
    open_server = LiveServer(store, api_key="").start()  # an empty key: none at all
    try:
        with open_server.client() as client:
            assert client.get("/flows").status_code == 200
    finally:
        open_server.stop()


# -- the OpenAPI document --------------------------------------------------------------------
def test_the_openapi_document_describes_every_route_and_model(sample_api: Api) -> None:
    doc = sample_api.get("/openapi.json")
    paths = doc["paths"]
    for path, method in [
        ("/api/health", "get"),
        ("/api/flows", "get"),
        ("/api/flow_runs", "get"),
        ("/api/flow_runs/count", "get"),
        ("/api/flow_runs/stats", "get"),
        ("/api/flow_runs/{flow_run_id}", "get"),
        ("/api/flow_runs/{flow_run_id}/task_runs", "get"),
        ("/api/flow_runs/{flow_run_id}/subflows", "get"),
        ("/api/flow_runs/{flow_run_id}/logs", "get"),
        ("/api/flow_runs/{flow_run_id}/artifacts", "get"),
        ("/api/flow_runs/{flow_run_id}/cancel", "post"),
        ("/api/flow_runs/{flow_run_id}/retry", "post"),
        ("/api/task_runs/{task_run_id}", "get"),
        ("/api/task_runs/{task_run_id}/logs", "get"),
        ("/api/artifacts", "get"),
        ("/api/artifacts/{artifact_id}", "get"),
        ("/api/artifacts/key/{key}", "get"),
        ("/api/events", "post"),
    ]:
        operation = paths[path][method]
        assert operation["description"], path  # from the route's docstring
        assert "401" in operation["responses"] or path == "/api/health"
    listing = paths["/api/flow_runs"]["get"]
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/FlowRunPage"}
    assert "400" in listing["responses"]
    assert {p["name"] for p in listing["parameters"]} == {
        "flow",
        "state",
        "tag",
        "since",
        "until",
        "parent",
        "top_level",
        "sort",
        "limit",
        "cursor",
    }
    schemas = doc["components"]["schemas"]
    models = ("FlowRunDetail", "TaskRunRow", "TaskRunDetail", "LogPage", "Artifact", "ErrorBody")
    assert all(name in schemas for name in models)
    assert "created_epoch" in schemas["FlowRun"]["properties"]
    assert sample_api.client.get("/docs").status_code == 200
