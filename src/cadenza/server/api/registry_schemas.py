"""The model registry's JSON, as pydantic models, and the conversions from its records.

Times are given twice, as everywhere in the API: ISO-8601 in UTC and seconds since
the epoch (``created`` and ``created_epoch``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from cadenza.registry import entities
from cadenza.server.api.convert import iso
from cadenza.server.api.errors import ApiError, ErrorBody
from cadenza.store.registry_base import RegistryStore


def get_registry(request: Request) -> RegistryStore:
    """The registry of the store the server was started with."""
    store = request.app.state.store
    if not isinstance(store, RegistryStore):
        raise ApiError("INTERNAL_ERROR", "This server's store has no model registry.")
    return store


def registry_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a registry route, for its OpenAPI description."""
    text = {
        400: "An invalid parameter (code INVALID_PARAMETER_VALUE).",
        404: "No such model, version or alias (code RESOURCE_DOES_NOT_EXIST).",
        409: "A model with this name exists (code RESOURCE_ALREADY_EXISTS).",
    }
    return {s: {"model": ErrorBody, "description": text[s]} for s in statuses}


# -- responses -----------------------------------------------------------------------------
class ModelVersion(BaseModel):
    """One version of a registered model."""

    name: str
    version: int
    source: str
    """Where its files are: ``runs:/RUN_ID/PATH``."""
    run_id: str | None
    flow_run_id: str | None
    status: str
    current_stage: str
    description: str | None
    code_version: str | None
    signature: dict[str, Any] | None
    user_id: str | None
    created: str | None
    created_epoch: float
    updated: str | None
    updated_epoch: float
    tags: dict[str, str]
    aliases: list[str]


class RegisteredModel(BaseModel):
    """A registered model with its tags, aliases and the latest version of each stage."""

    name: str
    description: str | None
    created: str | None
    created_epoch: float
    updated: str | None
    updated_epoch: float
    tags: dict[str, str]
    aliases: dict[str, int]
    """Alias -> version."""
    latest_versions: list[ModelVersion]
    latest_version: int | None


class RegisteredModelPage(BaseModel):
    items: list[RegisteredModel]
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; null on the last page."""


class Transition(BaseModel):
    """A stage change or an alias move."""

    id: int | None
    name: str
    version: int
    kind: str
    """``stage`` or ``alias``."""
    alias: str | None
    from_value: str | None
    to_value: str | None
    user: str | None
    comment: str | None
    timestamp: str | None
    timestamp_epoch: float


class LoggedModel(BaseModel):
    """A model logged by a run, with the versions registered from it."""

    run_id: str
    artifact_path: str
    flow_run_id: str | None
    model_uri: str
    flavors: list[str]
    signature: dict[str, Any] | None
    requirements: list[str]
    code_version: str | None
    created: str | None
    created_epoch: float
    registered_versions: list[ModelVersion] = Field(default_factory=list)


# -- requests ------------------------------------------------------------------------------
class CreateRegisteredModel(BaseModel):
    name: str
    description: str | None = None
    tags: dict[str, str] | None = None


class UpdateDescription(BaseModel):
    description: str | None = None


class SetTag(BaseModel):
    value: str


class CreateModelVersion(BaseModel):
    source: str
    """The URI of the model's files, such as ``runs:/RUN_ID/model``."""
    run_id: str | None = None
    flow_run_id: str | None = None
    description: str | None = None
    tags: dict[str, str] | None = None
    code_version: str | None = None
    signature: dict[str, Any] | None = None
    user: str | None = None


class StageTransition(BaseModel):
    stage: str
    """None, Staging, Production or Archived (any case)."""
    archive_existing_versions: bool = False
    user: str | None = None
    comment: str | None = None


class SetAlias(BaseModel):
    version: int
    user: str | None = None
    comment: str | None = None


class RecordLoggedModel(BaseModel):
    run_id: str
    artifact_path: str
    flow_run_id: str | None = None
    flavors: list[str] = Field(default_factory=list)
    signature: dict[str, Any] | None = None
    requirements: list[str] = Field(default_factory=list)
    code_version: str | None = None
    created: float | None = None


# -- conversions ---------------------------------------------------------------------------
def version_out(v: entities.ModelVersion) -> ModelVersion:
    return ModelVersion(
        name=v.name,
        version=v.version,
        source=v.source,
        run_id=v.run_id,
        flow_run_id=v.flow_run_id,
        status=v.status,
        current_stage=v.current_stage,
        description=v.description,
        code_version=v.code_version,
        signature=v.signature,
        user_id=v.user_id,
        created=iso(v.created),
        created_epoch=v.created,
        updated=iso(v.updated),
        updated_epoch=v.updated,
        tags=v.tags,
        aliases=v.aliases,
    )


def model_out(m: entities.RegisteredModel) -> RegisteredModel:
    return RegisteredModel(
        name=m.name,
        description=m.description,
        created=iso(m.created),
        created_epoch=m.created,
        updated=iso(m.updated),
        updated_epoch=m.updated,
        tags=m.tags,
        aliases=m.aliases,
        latest_versions=[version_out(v) for v in m.latest_versions],
        latest_version=m.latest_version,
    )


def transition_out(t: entities.Transition) -> Transition:
    return Transition(
        id=t.id,
        name=t.name,
        version=t.version,
        kind=t.kind,
        alias=t.alias,
        from_value=t.from_value,
        to_value=t.to_value,
        user=t.user,
        comment=t.comment,
        timestamp=iso(t.timestamp),
        timestamp_epoch=t.timestamp,
    )


def logged_out(m: entities.LoggedModel, versions: list[entities.ModelVersion]) -> LoggedModel:
    return LoggedModel(
        run_id=m.run_id,
        artifact_path=m.artifact_path,
        flow_run_id=m.flow_run_id,
        model_uri=m.model_uri,
        flavors=m.flavors,
        signature=m.signature,
        requirements=m.requirements,
        code_version=m.code_version,
        created=iso(m.created),
        created_epoch=m.created,
        registered_versions=[version_out(v) for v in versions],
    )
