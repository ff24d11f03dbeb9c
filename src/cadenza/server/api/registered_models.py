"""``/api/registered_models``: registered models, their tags, aliases and history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from cadenza.server.api import registry_schemas as rs
from cadenza.server.api.convert import respond
from cadenza.server.api.params import MAX_PAGE
from cadenza.store.registry_base import RegistryStore

router = APIRouter(tags=["model registry"])

_NAME = Path(description="The registered model's name.")


@router.get(
    "/registered_models",
    response_model=rs.RegisteredModelPage,
    responses=rs.registry_responses(400),
)
def search_registered_models(
    name_like: str | None = Query(
        None, description="An SQL LIKE pattern on the name, any case: taxi% starts with taxi."
    ),
    tag: list[str] = Query(
        [], description="KEY=VALUE: models having this tag (repeat for several)."
    ),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE}."),
    cursor: str | None = Query(None, description="The next_cursor of the previous page."),
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """List registered models by name, with their aliases and latest versions."""
    from cadenza.server.api.errors import invalid

    tags = {}
    for item in tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise invalid("tag", f"{item!r} is not KEY=VALUE")
        tags[key] = value
    found = registry.search_registered_models(
        name_like=name_like, tags=tags or None, limit=limit + 1, after_name=cursor
    )
    page = found[:limit]
    return respond(
        rs.RegisteredModelPage(
            items=[rs.model_out(m) for m in page],
            next_cursor=page[-1].name if len(found) > limit else None,
        )
    )


@router.post(
    "/registered_models",
    status_code=201,
    response_model=rs.RegisteredModel,
    responses=rs.registry_responses(400, 409),
)
def create_registered_model(
    body: rs.CreateRegisteredModel, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Create a registered model without versions."""
    created = registry.create_registered_model(
        body.name, description=body.description, tags=body.tags
    )
    return respond(rs.model_out(created), 201)


@router.get(
    "/registered_models/{name}",
    response_model=rs.RegisteredModel,
    responses=rs.registry_responses(404),
)
def get_registered_model(
    name: str = _NAME, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Read a registered model with its tags, aliases and the latest version per stage."""
    return respond(rs.model_out(registry.get_registered_model(name)))


@router.patch(
    "/registered_models/{name}",
    response_model=rs.RegisteredModel,
    responses=rs.registry_responses(404),
)
def update_registered_model(
    body: rs.UpdateDescription,
    name: str = _NAME,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Set a registered model's description."""
    return respond(
        rs.model_out(registry.update_registered_model(name, description=body.description))
    )


@router.delete("/registered_models/{name}", status_code=204, responses=rs.registry_responses(404))
def delete_registered_model(
    name: str = _NAME, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Delete a registered model with its versions, aliases and history (not the files)."""
    registry.delete_registered_model(name)
    return Response(status_code=204)


@router.put(
    "/registered_models/{name}/tags/{key:path}",
    status_code=204,
    responses=rs.registry_responses(400, 404),
)
def set_registered_model_tag(
    body: rs.SetTag,
    key: str,
    name: str = _NAME,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Set a tag of a registered model."""
    registry.set_registered_model_tag(name, key, body.value)
    return Response(status_code=204)


@router.delete(
    "/registered_models/{name}/tags/{key:path}",
    status_code=204,
    responses=rs.registry_responses(404),
)
def delete_registered_model_tag(
    key: str, name: str = _NAME, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Remove a tag of a registered model (nothing happens if it has none)."""
    registry.delete_registered_model_tag(name, key)
    return Response(status_code=204)


@router.put(
    "/registered_models/{name}/aliases/{alias}",
    status_code=204,
    responses=rs.registry_responses(400, 404),
)
def set_alias(
    body: rs.SetAlias,
    alias: str,
    name: str = _NAME,
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Point an alias at a version (recorded in the history)."""
    registry.set_registered_model_alias(
        name, alias, body.version, user=body.user, comment=body.comment
    )
    return Response(status_code=204)


@router.delete(
    "/registered_models/{name}/aliases/{alias}",
    status_code=204,
    responses=rs.registry_responses(404),
)
def delete_alias(
    alias: str,
    name: str = _NAME,
    user: str | None = Query(None, description="Who removes it, for the history."),
    comment: str | None = Query(None, description="Why, for the history."),
    registry: RegistryStore = Depends(rs.get_registry),
) -> Response:
    """Remove an alias (recorded in the history)."""
    registry.delete_registered_model_alias(name, alias, user=user, comment=comment)
    return Response(status_code=204)


@router.get(
    "/registered_models/{name}/aliases/{alias}",
    response_model=rs.ModelVersion,
    responses=rs.registry_responses(404),
)
def get_version_by_alias(
    alias: str, name: str = _NAME, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Read the version an alias points at."""
    return respond(rs.version_out(registry.get_model_version_by_alias(name, alias)))


@router.get(
    "/registered_models/{name}/latest_versions",
    response_model=list[rs.ModelVersion],
    responses=rs.registry_responses(400, 404),
)
def get_latest_versions(
    name: str = _NAME,
    stages: list[str] = Query([], description="Stages to look at (repeat); every stage if none."),
    registry: RegistryStore = Depends(rs.get_registry),
) -> list[rs.ModelVersion]:
    """The highest version in each stage."""
    return [rs.version_out(v) for v in registry.get_latest_versions(name, stages or None)]


@router.get(
    "/registered_models/{name}/history",
    response_model=list[rs.Transition],
    responses=rs.registry_responses(404),
)
def list_transitions(
    name: str = _NAME,
    version: int | None = Query(None, ge=1, description="Only this version's history."),
    limit: int = Query(1000, ge=1, le=10_000, description="At most this many, the newest."),
    registry: RegistryStore = Depends(rs.get_registry),
) -> list[rs.Transition]:
    """The history of stage changes and alias moves, oldest first."""
    found = registry.list_transitions(name, version=version, limit=limit)
    return [rs.transition_out(t) for t in found]
