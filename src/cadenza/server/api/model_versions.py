"""``/api/registered_models/{name}/versions`` and ``/api/model_versions``: versions of
registered models, their stages and tags."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from cadenza.server.api import registry_schemas as rs
from cadenza.server.api.convert import respond
from cadenza.server.api.params import MAX_PAGE
from cadenza.store.registry_base import RegistryStore

router = APIRouter(tags=["model registry"])

_NAME = Path(description="The registered model's name.")
_VERSION = Path(ge=1, description="The version number, from 1.")
_BASE = "/registered_models/{name}/versions"


@router.get(
    "/model_versions", response_model=list[rs.ModelVersion], responses=rs.registry_responses(400)
)
def search_model_versions(
    name: str | None = Query(None, description="Only versions of this model."),
    run_id: str | None = Query(None, description="Only versions logged by this run."),
    flow_run_id: str | None = Query(None, description="Only versions of this flow run."),
    stage: str | None = Query(None, description="Only versions in this stage."),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE}."),
    registry: RegistryStore = Depends(rs.get_registry),
) -> list[rs.ModelVersion]:
    """Versions matching every filter given, by model, newest version first."""
    found = registry.search_model_versions(
        name=name, run_id=run_id, flow_run_id=flow_run_id, stage=stage, limit=limit
    )
    return [rs.version_out(v) for v in found]


@router.post(
    _BASE,
    status_code=201,
    response_model=rs.ModelVersion,
    responses=rs.registry_responses(400, 404),
)
def create_model_version(
    body: rs.CreateModelVersion,
    name: str = _NAME,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Add the next version of a registered model (numbered in one transaction)."""
    created = registry.create_model_version(
        name,
        body.source,
        run_id=body.run_id,
        flow_run_id=body.flow_run_id,
        description=body.description,
        tags=body.tags,
        code_version=body.code_version,
        signature=body.signature,
        user=body.user,
    )
    return respond(rs.version_out(created), 201)


@router.get(
    _BASE + "/{version}", response_model=rs.ModelVersion, responses=rs.registry_responses(404)
)
def get_model_version(
    name: str = _NAME, version: int = _VERSION, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Read one version with its tags and aliases."""
    return respond(rs.version_out(registry.get_model_version(name, version)))


@router.patch(
    _BASE + "/{version}", response_model=rs.ModelVersion, responses=rs.registry_responses(404)
)
def update_model_version(
    body: rs.UpdateDescription,
    name: str = _NAME,
    version: int = _VERSION,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Set a version's description."""
    updated = registry.update_model_version(name, version, description=body.description)
    return respond(rs.version_out(updated))


@router.delete(_BASE + "/{version}", status_code=204, responses=rs.registry_responses(404))
def delete_model_version(
    name: str = _NAME, version: int = _VERSION, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Delete a version, its tags and the aliases pointing at it (its history stays)."""
    registry.delete_model_version(name, version)
    return Response(status_code=204)


@router.post(
    _BASE + "/{version}/stage",
    response_model=rs.ModelVersion,
    responses=rs.registry_responses(400, 404),
)
def transition_stage(
    body: rs.StageTransition,
    name: str = _NAME,
    version: int = _VERSION,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Move a version to a stage; with ``archive_existing_versions`` the versions in that
    stage move to Archived. Every change is recorded with who and why."""
    moved = registry.transition_model_version_stage(
        name,
        version,
        body.stage,
        archive_existing_versions=body.archive_existing_versions,
        user=body.user,
        comment=body.comment,
    )
    return respond(rs.version_out(moved))


@router.put(
    _BASE + "/{version}/tags/{key:path}",
    status_code=204,
    responses=rs.registry_responses(400, 404),
)
def set_model_version_tag(
    body: rs.SetTag,
    key: str,
    name: str = _NAME,
    version: int = _VERSION,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Set a tag of a version."""
    registry.set_model_version_tag(name, version, key, body.value)
    return Response(status_code=204)


@router.delete(
    _BASE + "/{version}/tags/{key:path}", status_code=204, responses=rs.registry_responses(404)
)
def delete_model_version_tag(
    key: str,
    name: str = _NAME,
    version: int = _VERSION,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Remove a tag of a version (nothing happens if it has none)."""
    registry.delete_model_version_tag(name, version, key)
    return Response(status_code=204)
