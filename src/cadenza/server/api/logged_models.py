"""``/api/logged_models`` and ``/api/runs/{id}/models``: the models runs logged."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends
from starlette.responses import Response

from cadenza.registry.entities import LoggedModel
from cadenza.server.api import registry_schemas as rs
from cadenza.store.registry_base import RegistryStore

router = APIRouter(tags=["model registry"])


@router.post("/logged_models", status_code=204, responses=rs.registry_responses(400))
def record_logged_model(
    body: rs.RecordLoggedModel, registry: RegistryStore = Depends(rs.get_registry)
) -> Response:
    """Record that a run logged a model (``log_model`` does, after uploading its files)."""
    registry.record_logged_model(
        LoggedModel(
            run_id=body.run_id,
            artifact_path=body.artifact_path,
            flow_run_id=body.flow_run_id,
            flavors=body.flavors,
            signature=body.signature,
            requirements=body.requirements,
            code_version=body.code_version,
            created=body.created or time.time(),
        )
    )
    return Response(status_code=204)


def models_of_run(registry: RegistryStore, run_id: str) -> list[rs.LoggedModel]:
    """The models a run logged, each with the versions registered from it."""
    logged = registry.list_logged_models(run_id)
    if not logged:
        return []
    versions = registry.search_model_versions(flow_run_id=logged[0].flow_run_id, limit=1000)
    versions += [
        v for v in registry.search_model_versions(run_id=run_id, limit=1000) if v not in versions
    ]
    return [rs.logged_out(m, [v for v in versions if v.source == m.model_uri]) for m in logged]


@router.get("/runs/{run_id}/models", response_model=list[rs.LoggedModel])
def list_run_models(
    run_id: str, registry: RegistryStore = Depends(rs.get_registry)
) -> list[rs.LoggedModel]:
    """The models a flow run (and its task runs) or a task run logged, oldest first, with
    the versions registered from each. Empty for a run that logged none."""
    return models_of_run(registry, run_id)
