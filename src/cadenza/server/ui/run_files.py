"""The files runs logged, in the UI: ``/files/{run_id}/{path}`` previews a file (text,
JSON, images) or lists a folder; ``/ui/files/{run_id}/{path}`` sends the file itself."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cadenza.server.api.run_artifacts import content_type, file_response
from cadenza.server.api.tracking_deps import get_artifact_store, get_tracking_store
from cadenza.server.ui.run_page import not_found
from cadenza.server.ui.templating import render, secure
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.artifacts import ArtifactStore, validate_path, validate_run_id
from cadenza.tracking.errors import InvalidArtifactPath

router = APIRouter()

PREVIEW_BYTES = 256 * 1024
_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")


def _checked(run_id: str, path: str) -> str | None:
    try:
        validate_run_id(run_id)
        return validate_path(path, "path")
    except InvalidArtifactPath:
        return None


@router.get("/ui/files/{run_id}/{path:path}", include_in_schema=False)
def raw_file(
    run_id: str,
    path: str,
    download: str | None = None,
    artifacts: ArtifactStore = Depends(get_artifact_store),
) -> Response:
    relative = _checked(run_id, path)
    if not relative:
        return secure(Response("Not a file of this run.", status_code=404))
    found = artifacts.stat(run_id, relative)
    if found is None or found.is_dir:
        return secure(Response("Not a file of this run.", status_code=404))
    return file_response(artifacts, run_id, relative, inline=not download)


@router.get("/files/{run_id}", include_in_schema=False)
@router.get("/files/{run_id}/{path:path}", include_in_schema=False)
def file_page(
    request: Request,
    run_id: str,
    path: str = "",
    store: TrackingStore = Depends(get_tracking_store),
    artifacts: ArtifactStore = Depends(get_artifact_store),
) -> Response:
    relative = _checked(run_id, path)
    run = store.get_run(run_id) if relative is not None else None
    if run is None or relative is None:
        return not_found(request, "run file", f"{run_id}/{path}")
    entry = artifacts.stat(run_id, relative)
    if entry is None and relative:
        return not_found(request, "file", f"{path} of run {run.info.run_name}")
    preview: dict[str, Any] = {"kind": "folder"}
    listing = []
    if entry is not None and not entry.is_dir:
        preview = _preview(artifacts, run_id, relative, entry.size or 0)
    else:
        listing = artifacts.list(run_id, relative)
    parents = []
    parts = relative.split("/") if relative else []
    for i in range(len(parts)):
        parents.append(("/".join(parts[: i + 1]), parts[i]))
    return render(
        request,
        "run_file.html",
        {
            "section": "runs",
            "run": run,
            "path": relative,
            "entry": entry,
            "parents": parents,
            "listing": listing,
            "preview": preview,
        },
    )


def _preview(artifacts: ArtifactStore, run_id: str, path: str, size: int) -> dict[str, Any]:
    kind = content_type(path).split(";")[0]
    if kind in _IMAGES or path.lower().endswith(".svg"):
        return {"kind": "image"}
    if not (kind.startswith("text/") or kind == "application/json"):
        return {"kind": "none"}
    with artifacts.open(run_id, path) as f:
        data = f.read(PREVIEW_BYTES + 1)
    cut = len(data) > PREVIEW_BYTES
    text = data[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    if kind == "application/json" and not cut:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return {"kind": "text", "text": text, "cut": cut, "size": size}
