"""The registry's REST API against a real server: status codes, error codes with what
exists, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from tests.server.api.conftest import Api


def _register(api: Api, name: str = "taxi", versions: int = 2) -> None:
    api.post("/registered_models", 201, {"name": name, "tags": {"team": "a"}})
    for i in range(versions):
        api.post(f"/registered_models/{name}/versions", 201, {"source": f"runs:/r/m{i}"})


def test_create_read_update_delete(api: Api) -> None:
    created = api.post(
        "/registered_models", 201, {"name": "taxi", "description": "d", "tags": {"k": "v"}}
    )
    assert created["name"] == "taxi"
    assert created["created"].endswith("Z")
    assert created["created_epoch"] > 0
    again = api.client.post("/registered_models", json={"name": "taxi"})
    assert again.status_code == 409
    assert again.json()["code"] == "RESOURCE_ALREADY_EXISTS"
    version = api.post(
        "/registered_models/taxi/versions",
        201,
        {"source": "runs:/abc/model", "run_id": "abc", "tags": {"data": "jan"}, "user": "ana"},
    )
    assert (version["version"], version["current_stage"], version["user_id"]) == (1, "None", "ana")
    patched = api.client.patch("/registered_models/taxi/versions/1", json={"description": "x"})
    assert patched.json()["description"] == "x"
    assert (
        api.client.put("/registered_models/taxi/tags/owner", json={"value": "bo"}).status_code
        == 204
    )
    assert api.get("/registered_models/taxi")["tags"] == {"k": "v", "owner": "bo"}
    assert api.client.delete("/registered_models/taxi/versions/1").status_code == 204
    assert api.client.delete("/registered_models/taxi").status_code == 204
    assert api.get("/registered_models")["items"] == []


def test_misses_answer_resource_does_not_exist_naming_what_exists(api: Api) -> None:
    _register(api)
    body = api.get("/registered_models/taxy", 404)
    assert body["code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "'taxi'" in body["message"]
    assert body["details"][0]["field"] == "name"
    body = api.get("/registered_models/taxi/versions/9", 404)
    assert "its versions are 1-2" in body["message"]
    assert body["details"][0]["field"] == "version"
    body = api.get("/registered_models/taxi/aliases/champion", 404)
    assert "no aliases" in body["message"]
    body = api.get("/registered_models/taxi/versions/zero", 400)
    assert body["code"] == "INVALID_PARAMETER_VALUE"
    body = api.get("/registered_models", 400, nmae_like="x")
    assert "Unknown query parameter 'nmae_like'" in body["message"]


def test_stages_aliases_and_history(api: Api) -> None:
    _register(api, versions=3)
    moved = api.post(
        "/registered_models/taxi/versions/1/stage", 200, {"stage": "production", "user": "ana"}
    )
    assert moved["current_stage"] == "Production"
    api.post(
        "/registered_models/taxi/versions/2/stage",
        200,
        {"stage": "Production", "archive_existing_versions": True, "comment": "better"},
    )
    latest = api.get("/registered_models/taxi/latest_versions", stages=["Production", "Archived"])
    assert [(v["current_stage"], v["version"]) for v in latest] == [
        ("Production", 2),
        ("Archived", 1),
    ]
    bad = api.client.post("/registered_models/taxi/versions/1/stage", json={"stage": "Prod"})
    assert bad.status_code == 400
    assert "the stages are" in bad.json()["message"]
    put = api.client.put(
        "/registered_models/taxi/aliases/champion", json={"version": 2, "user": "ana"}
    )
    assert put.status_code == 204
    assert api.get("/registered_models/taxi/aliases/champion")["version"] == 2
    deleted = api.client.delete(
        "/registered_models/taxi/aliases/champion", params={"user": "bo", "comment": "gone"}
    )
    assert deleted.status_code == 204
    history = api.get("/registered_models/taxi/history")
    assert [(h["kind"], h["to_value"], h["user"]) for h in history] == [
        ("stage", "Production", "ana"),
        ("stage", "Archived", None),
        ("stage", "Production", None),
        ("alias", "2", "ana"),
        ("alias", None, "bo"),
    ]
    assert history[-1]["comment"] == "gone"
    assert [h["version"] for h in api.get("/registered_models/taxi/history", version=1)] == [1, 1]


def test_search_pages_and_versions_of_runs(api: Api) -> None:
    for name in ("a-model", "b-model", "c-model"):
        _register(api, name, versions=1)
    items = api.pages("/registered_models", 2)
    assert [m["name"] for m in items] == ["a-model", "b-model", "c-model"]
    assert [m["name"] for m in api.get("/registered_models", name_like="B%")["items"]] == [
        "b-model"
    ]
    assert len(api.get("/registered_models", tag="team=a")["items"]) == 3
    assert api.get("/registered_models", 400, tag="team")["code"] == "INVALID_PARAMETER_VALUE"
    api.post("/registered_models/a-model/versions", 201, {"source": "runs:/r1/m", "run_id": "r1"})
    found = api.get("/model_versions", run_id="r1")
    assert [(v["name"], v["version"]) for v in found] == [("a-model", 2)]


def test_models_of_a_run_with_their_registered_versions(api: Api) -> None:
    body: dict[str, Any] = {
        "run_id": "task-1",
        "artifact_path": "model",
        "flow_run_id": "flow-1",
        "flavors": ["python_function", "sklearn"],
        "requirements": ["scikit-learn==1.5.0"],
    }
    assert api.client.post("/logged_models", json=body).status_code == 204
    api.post("/registered_models", 201, {"name": "taxi"})
    api.post(
        "/registered_models/taxi/versions",
        201,
        {"source": "runs:/task-1/model", "run_id": "task-1", "flow_run_id": "flow-1"},
    )
    for run_id in ("flow-1", "task-1"):
        models = api.get(f"/runs/{run_id}/models")
        assert [m["model_uri"] for m in models] == ["runs:/task-1/model"]
        assert [(v["name"], v["version"]) for v in models[0]["registered_versions"]] == [
            ("taxi", 1)
        ]
    assert api.get("/runs/other/models") == []


def test_the_openapi_document_describes_the_registry(api: Api) -> None:
    doc = api.get("/openapi.json")
    for path in (
        "/api/registered_models",
        "/api/registered_models/{name}",
        "/api/registered_models/{name}/versions/{version}/stage",
        "/api/registered_models/{name}/aliases/{alias}",
        "/api/registered_models/{name}/history",
        "/api/model_versions",
        "/api/runs/{run_id}/models",
    ):
        assert path in doc["paths"], path
    assert "ModelVersion" in doc["components"]["schemas"]
    assert "RegisteredModel" in doc["components"]["schemas"]
