"""The tracking routes of the REST API, against a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cadenza.events import MetricLogged, ParamsLogged
from cadenza.store.sql import SqlStore
from tests.server.api.conftest import Api, LiveServer
from tests.store import make
from tests.store.make import T0, Clock


@pytest.fixture
def api(store: SqlStore) -> Iterator[Api]:
    server = LiveServer(store).start()
    with server.client() as client:
        yield Api(client)
    server.stop()


@pytest.fixture
def runs(store: SqlStore) -> dict[str, Any]:
    clock = Clock()
    run = make.flow_run("train")
    task = make.task_run(run, name="trial-0")
    store.apply(
        [
            *make.completed(run, clock),
            *make.completed(task, clock),
            ParamsLogged(task.id, {"max_depth": "10"}),
            *(MetricLogged(task.id, "loss", 1 / (i + 1), T0 + i, i) for i in range(3)),
            MetricLogged(task.id, "nan", float("nan"), T0, 0),
        ]
    )
    return {"flow": run.id, "task": task.id}


def test_experiments_routes(api: Api, runs: dict[str, Any]) -> None:
    listed = api.get("/experiments")["items"]
    assert [(e["name"], e["run_count"]) for e in listed] == [("train", 2)]
    train = listed[0]
    assert train["last_run_time"] == "2025-06-15T15:06:40.000Z"
    assert api.get(f"/experiments/{train['experiment_id']}") == train
    assert api.get("/experiments/by-name", name="train") == train
    created = api.post("/experiments", 201, {"name": "taxi", "description": "fares"})
    assert (created["name"], created["description"], created["run_count"]) == ("taxi", "fares", 0)
    conflict = api.post("/experiments", 409, {"name": "taxi"})
    assert conflict["code"] == "CONFLICT"
    assert "exists already" in conflict["message"]
    assert api.post("/experiments", 400, {"name": ""})["code"] == "INVALID_PARAMETER_VALUE"
    assert api.get("/experiments/by-name", 404, name="nope")["code"] == "NOT_FOUND"
    assert api.get("/experiments/nope", 404)["message"] == "There is no experiment with id 'nope'."
    keys = api.get(f"/experiments/{train['experiment_id']}/keys")
    assert keys == {"params": ["max_depth"], "metrics": ["loss", "nan"], "tags": []}


def test_run_routes(api: Api, runs: dict[str, Any]) -> None:
    run = api.get(f"/runs/{runs['task']}")
    assert run["info"]["kind"] == "task"
    assert run["info"]["flow_run_id"] == runs["flow"]
    assert run["data"] == {
        "params": {"max_depth": "10"},
        "metrics": {"loss": 1 / 3, "nan": "NaN"},
        "tags": {},
    }
    assert api.get(f"/runs/{runs['task']}/data") == run["data"]
    assert api.get(f"/runs/{runs['flow']}/data") == {"params": {}, "metrics": {}, "tags": {}}
    history = api.get(f"/runs/{runs['task']}/metric-history", key="loss")
    assert [(p["step"], p["value"]) for p in history["items"]] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert history["items"][0]["timestamp"] == "2025-06-15T15:06:40.000Z"
    assert api.get("/runs/nope", 404)["code"] == "NOT_FOUND"
    assert api.get("/runs/nope/data", 404)["code"] == "NOT_FOUND"
    missing_key = api.get(f"/runs/{runs['task']}/metric-history", 400)
    assert missing_key["details"][0]["field"] == "key"
    unknown = api.get(f"/runs/{runs['task']}/data", 400, colour="red")
    assert "Unknown query parameter 'colour'" in unknown["message"]
    assert api.get(f"/runs/{runs['task']}/datasets") == {"items": []}


def test_search_and_log_batch_routes(api: Api, runs: dict[str, Any]) -> None:
    train = api.get("/experiments/by-name", name="train")["experiment_id"]
    page = api.post(
        "/runs/search",
        json={
            "experiment_ids": [train],
            "filter": "metrics.loss < 1",
            "order_by": ["metrics.loss"],
        },
    )
    assert [r["info"]["run_id"] for r in page["runs"]] == [runs["task"]]
    assert page["next_page_token"] is None
    bad = api.post("/runs/search", 400, {"experiment_ids": [train], "filter": "params.x = 1"})
    assert bad["code"] == "INVALID_FILTER"
    assert "quote it" in bad["message"]
    too_many = api.post("/runs/search", 400, {"experiment_ids": [train], "max_results": 50_001})
    assert too_many["details"][0]["field"] == "max_results"

    logged = api.post(
        f"/runs/{runs['flow']}/log-batch",
        json={
            "metrics": [{"key": "best", "value": "Infinity", "step": 1}, {"key": "n", "value": 2}],
            "params": [{"key": "seed", "value": "7"}],
            "tags": [{"key": "owner", "value": "ana"}],
        },
    )
    assert logged == {"run_id": runs["flow"], "metrics": 2, "params": 1, "tags": 1}
    assert api.get(f"/runs/{runs['flow']}/data")["metrics"] == {"best": "Infinity", "n": 2.0}
    conflict = api.post(
        f"/runs/{runs['flow']}/log-batch", 409, {"params": [{"key": "seed", "value": "8"}]}
    )
    assert conflict["code"] == "PARAM_CONFLICT"
    assert "'seed'" in conflict["message"]
    bad_value = api.post(
        f"/runs/{runs['flow']}/log-batch", 400, {"metrics": [{"key": "m", "value": "lots"}]}
    )
    assert bad_value["details"][0]["field"] == "metrics.0.value"
    assert api.post("/runs/nope/log-batch", 404, {"params": []})["code"] == "NOT_FOUND"
    datasets = api.post(
        f"/runs/{runs['flow']}/datasets",
        json={"datasets": [{"name": "taxi", "digest": "ab", "schema": {"fare": "float64"}}]},
    )
    assert [(d["name"], d["columns"]) for d in datasets["items"]] == [("taxi", {"fare": "float64"})]


def test_the_openapi_document_describes_the_tracking_routes(api: Api) -> None:
    doc = api.get("/openapi.json")
    paths = doc["paths"]
    for path in (
        "/api/experiments",
        "/api/experiments/by-name",
        "/api/experiments/{experiment_id}",
        "/api/experiments/{experiment_id}/keys",
        "/api/runs/search",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/data",
        "/api/runs/{run_id}/metric-history",
        "/api/runs/{run_id}/log-batch",
        "/api/runs/{run_id}/datasets",
        "/api/runs/{run_id}/artifacts",
        "/api/runs/{run_id}/artifacts/{path}",
    ):
        assert path in paths, path
    assert set(paths["/api/runs/{run_id}/artifacts/{path}"]) == {"get", "put"}
    schemas = doc["components"]["schemas"]
    for model in ("Experiment", "RunPage", "RunInfo", "MetricHistory", "ArtifactListing"):
        assert model in schemas
