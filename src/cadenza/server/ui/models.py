"""``/models``: registered models; ``/models/{name}``: one model with its versions and
history; ``/models/{name}/versions/{version}``: a version with its lineage and the
forms that set an alias and change the stage.

The forms post to the UI, which checks the login and the origin, then calls the REST
API in-process with the server's key, as the run page's buttons do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cadenza.exceptions import ModelNotFoundError, ModelVersionNotFoundError
from cadenza.registry.entities import STAGES
from cadenza.registry.signature import describe
from cadenza.server.ui.actions import call_api
from cadenza.server.ui.auth import form_fields, same_origin
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.model_lineage import lineage
from cadenza.server.ui.templating import render, secure, set_flash
from cadenza.store.base import RunStore
from cadenza.store.registry_base import RegistryStore

router = APIRouter()

PAGE_SIZE = 200


def registry_of(store: RunStore) -> RegistryStore | None:
    """The registry of the server's store (every SQL store has one)."""
    return store if isinstance(store, RegistryStore) else None


def not_found(request: Request, what: str, ident: str) -> Response:
    return render(request, "not_found.html", {"what": what, "ident": ident}, status_code=404)


def model_url(name: str, version: int | None = None) -> str:
    url = f"/models/{quote(name, safe='')}"
    return url if version is None else f"{url}/versions/{version}"


@router.get("/models", include_in_schema=False)
def models_page(request: Request, store: RunStore = Depends(get_store)) -> Response:
    registry = registry_of(store)
    found = registry.search_registered_models(limit=PAGE_SIZE) if registry else []
    return render(
        request,
        "models.html",
        {"section": "models", "models": found, "model_url": model_url},
    )


@router.get("/models/{name}", include_in_schema=False)
def model_page(request: Request, name: str, store: RunStore = Depends(get_store)) -> Response:
    registry = registry_of(store)
    try:
        if registry is None:
            raise ModelNotFoundError(name)
        model = registry.get_registered_model(name)
    except ModelNotFoundError:
        return not_found(request, "registered model", name)
    versions = registry.search_model_versions(name=name, limit=1000)
    history = registry.list_transitions(name)
    runs = {v.flow_run_id: store.read_flow_run(v.flow_run_id) for v in versions if v.flow_run_id}
    return render(
        request,
        "model.html",
        {
            "section": "models",
            "model": model,
            "versions": versions,
            "history": list(reversed(history)),
            "runs": runs,
            "model_url": model_url,
        },
    )


@router.get("/models/{name}/versions/{version}", include_in_schema=False)
def version_page(
    request: Request, name: str, version: str, store: RunStore = Depends(get_store)
) -> Response:
    registry = registry_of(store)
    if registry is None or not version.isdigit():
        return not_found(request, "model version", f"{name} {version}")
    try:
        found = registry.get_model_version(name, int(version))
    except (ModelNotFoundError, ModelVersionNotFoundError):
        return not_found(request, "model version", f"{name} version {version}")
    history = registry.list_transitions(name, version=found.version)
    signature = found.signature or {}
    return render(
        request,
        "model_version.html",
        {
            "section": "models",
            "mv": found,
            "lineage": lineage(store, registry, found),
            "history": list(reversed(history)),
            "inputs": signature.get("inputs") or [],
            "outputs": signature.get("outputs") or [],
            "describe": describe,
            "stages": STAGES,
            "model_url": model_url,
        },
    )


def _api_path(name: str, version: int) -> str:
    return f"/api/registered_models/{quote(name, safe='')}/versions/{version}"


def _user(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return f"web UI ({host})"


async def _act(
    request: Request,
    name: str,
    version: int,
    method: str,
    path: str,
    body: dict[str, Any],
    done: str,
) -> Response:
    status, answer = await call_api(request, method, path, json=body)
    response = RedirectResponse(model_url(name, version), 303)
    if 200 <= status < 300:
        set_flash(response, "ok", done)
    else:
        message = answer.get("message") if isinstance(answer, dict) else None
        set_flash(response, "error", f"Not done: {message or f'the API answered {status}.'}")
    return secure(response)


@router.post(
    "/models/{name}/versions/{version}/alias",
    include_in_schema=False,
    dependencies=[Depends(same_origin)],
)
async def set_alias(request: Request, name: str, version: int) -> Response:
    fields = await form_fields(request)
    alias = fields.get("alias", "").strip()
    comment = fields.get("comment", "").strip() or None
    base = f"/api/registered_models/{quote(name, safe='')}/aliases/{quote(alias, safe='')}"
    body = {"version": version, "user": _user(request), "comment": comment}
    if not alias:
        response = RedirectResponse(model_url(name, version), 303)
        set_flash(response, "error", "Not done: give the alias a name, such as champion.")
        return secure(response)
    return await _act(
        request, name, version, "PUT", base, body, f"@{alias} now points at version {version}."
    )


@router.post(
    "/models/{name}/versions/{version}/stage",
    include_in_schema=False,
    dependencies=[Depends(same_origin)],
)
async def set_stage(request: Request, name: str, version: int) -> Response:
    fields = await form_fields(request)
    stage = fields.get("stage", "")
    body = {
        "stage": stage,
        "archive_existing_versions": fields.get("archive_existing") == "1",
        "user": _user(request),
        "comment": fields.get("comment", "").strip() or None,
    }
    path = _api_path(name, version) + "/stage"
    return await _act(
        request, name, version, "POST", path, body, f"Version {version} is in {stage}."
    )


def models_of_run(store: RunStore, run_id: str) -> list[Any]:
    """The models a flow run (and its task runs) logged, with their registered versions,
    for the run page."""
    registry = registry_of(store)
    if registry is None:
        return []
    from cadenza.server.api.logged_models import models_of_run as find

    return find(registry, run_id)
