"""``/api/artifacts`` and ``/api/flow_runs/{id}/artifacts``: markdown, tables and links
created by runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from cadenza.runs import Artifact
from cadenza.server.api import convert, models
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, not_found, responses
from cadenza.server.api.flow_runs import read_flow_run
from cadenza.server.api.params import MAX_PAGE, cursor_param
from cadenza.store.base import RunStore

router = APIRouter(tags=["artifacts"])

KEY_PATTERN = r"^[a-z0-9-]{1,255}$"
_KEY_HELP = "lowercase letters, digits and dashes"
_LIMIT = Query(50, ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE}.")


def artifact_page(
    store: RunStore,
    *,
    limit: int,
    cursor: str | None,
    key: str | None = None,
    flow_run_id: str | None = None,
    task_run_id: str | None = None,
    latest_only: bool = False,
) -> models.ArtifactPage:
    found = store.list_artifacts(
        key=key,
        flow_run_id=flow_run_id,
        task_run_id=task_run_id,
        latest_only=latest_only,
        limit=limit + 1,
        before_id=cursor,
    )
    page = found[:limit]
    return models.ArtifactPage(
        items=[convert.artifact_summary(a) for a in page],
        next_cursor=page[-1].id if len(found) > limit else None,
    )


@router.get("/artifacts", response_model=models.ArtifactPage, responses=responses(400))
def list_artifacts(
    key: str | None = Query(
        None, pattern=KEY_PATTERN, description=f"Only the versions of this key ({_KEY_HELP})."
    ),
    latest_only: bool = Query(
        False, description="Of the artifacts sharing a key, only the newest."
    ),
    flow_run_id: str | None = Query(
        None, description="Only artifacts of this flow run and of its task runs."
    ),
    task_run_id: str | None = Query(None, description="Only artifacts of this task run."),
    limit: int = _LIMIT,
    cursor: str | None = Depends(cursor_param),
    store: RunStore = Depends(get_store),
) -> Response:
    """List artifacts, newest first, without their content.

    Pass ``next_cursor`` as ``cursor`` for the next page. ``GET /api/artifacts/{id}``
    gives an artifact's content.
    """
    return convert.respond(
        artifact_page(
            store,
            limit=limit,
            cursor=cursor,
            key=key,
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
            latest_only=latest_only,
        )
    )


@router.get("/artifacts/key/{key}", response_model=models.Artifact, responses=responses(400, 404))
def read_artifact_by_key(
    key: str = Path(pattern=KEY_PATTERN, description=f"The key ({_KEY_HELP})."),
    version: int | None = Query(
        None, ge=1, description="Its version, from 1 (the oldest); by default the newest."
    ),
    store: RunStore = Depends(get_store),
) -> Response:
    """Read the current artifact of a key (its newest version), or one of its versions."""
    found = store.read_artifact_by_key(key, version=version)
    if found is None:
        if version is not None and store.read_artifact_by_key(key) is not None:
            raise ApiError("NOT_FOUND", f"Artifact {key!r} has no version {version}.")
        raise ApiError("NOT_FOUND", f"There is no artifact with key {key!r}.")
    return convert.respond(convert.artifact(found))


@router.get("/artifacts/{artifact_id}", response_model=models.Artifact, responses=responses(404))
def read_artifact(artifact_id: str, store: RunStore = Depends(get_store)) -> Response:
    """Read one artifact with its content."""
    found: Artifact | None = store.read_artifact(artifact_id)
    if found is None:
        raise not_found("artifact", artifact_id)
    return convert.respond(convert.artifact(found))


@router.get(
    "/flow_runs/{flow_run_id}/artifacts",
    response_model=models.ArtifactPage,
    responses=responses(400, 404),
)
def list_flow_run_artifacts(
    flow_run_id: str,
    limit: int = _LIMIT,
    cursor: str | None = Depends(cursor_param),
    store: RunStore = Depends(get_store),
) -> Response:
    """List the artifacts of a flow run and of its task runs, newest first.

    Artifacts of its subflow runs are listed under those runs.
    """
    run = read_flow_run(store, flow_run_id)
    return convert.respond(artifact_page(store, limit=limit, cursor=cursor, flow_run_id=run.id))
