"""``/api/runs/{run_id}/artifacts``: the files runs logged, listed, downloaded, uploaded.

Files are streamed both ways, so that clients need no access to the server's storage
(``CADENZA_ARTIFACT_ROOT`` of the server). Downloads are sent as attachments, with
a Content-Type only for images and plain text, so that a file a run logged cannot
act as a page of the server.
"""

from __future__ import annotations

import mimetypes
import tempfile
import urllib.parse
from collections.abc import Iterator
from typing import BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from cadenza.server.api import convert
from cadenza.server.api import tracking_models as models
from cadenza.server.api.errors import ApiError, responses
from cadenza.server.api.tracked_runs import read_run
from cadenza.server.api.tracking_deps import get_artifact_store, get_tracking_store, tracking_errors
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.artifacts import CHUNK, ArtifactStore, validate_path, validate_run_id

router = APIRouter(tags=["artifacts"])

SAFE_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
    "text/plain",
    "text/csv",
    "application/json",
}
"""Content types sent as they are (with a sandboxing Content-Security-Policy, so that
not even an SVG's scripts run); anything else (HTML, scripts) is sent as
``application/octet-stream``."""
_TEXT_EXTENSIONS = {".txt", ".log", ".md", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".py"}
_SPOOL = 8 * 1024 * 1024


def content_type(path: str) -> str:
    """The Content-Type a file of this name is served with (see :data:`SAFE_TYPES`)."""
    name = path.rsplit("/", 1)[-1].lower()
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in _TEXT_EXTENSIONS:
        return "text/plain; charset=utf-8"
    guessed = mimetypes.guess_type(name)[0] or ""
    if guessed in SAFE_TYPES:
        return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")
    return "application/octet-stream"


def file_response(artifacts: ArtifactStore, run_id: str, path: str, *, inline: bool) -> Response:
    """A streamed response with the file ``path`` of a run's artifacts (404 if none)."""
    found = artifacts.stat(run_id, path) if path else None
    if found is None or found.is_dir:
        what = "a folder, not a file" if found is not None else "no file there"
        raise ApiError("NOT_FOUND", f"Run {run_id} has {what} at {path!r}.")
    source = artifacts.open(run_id, path)

    def chunks(f: BinaryIO) -> Iterator[bytes]:
        with f:
            while block := f.read(CHUNK):
                yield block

    name = urllib.parse.quote(path.rsplit("/", 1)[-1], safe="")
    kind = content_type(path)
    disposition = "inline" if inline and kind != "application/octet-stream" else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=60",
    }
    if found.size is not None:
        headers["Content-Length"] = str(found.size)
    return StreamingResponse(chunks(source), media_type=kind, headers=headers)


@router.get(
    "/runs/{run_id}/artifacts",
    response_model=models.ArtifactListing,
    responses=responses(400, 404),
)
def list_run_artifacts(
    run_id: str,
    path: str = Query("", max_length=1024, description="A folder under the run's root."),
    recursive: bool = Query(False, description="Every file below the folder instead."),
    store: TrackingStore = Depends(get_tracking_store),
    artifacts: ArtifactStore = Depends(get_artifact_store),
) -> Response:
    """List the files and folders of a folder of a run's artifacts (its root by default).

    ``entry`` tells what ``path`` itself is: a folder, a file, or null.
    """
    with tracking_errors():
        relative = validate_path(path, "path")
        validate_run_id(run_id)
    read_run(store, run_id)
    entry = artifacts.stat(run_id, relative)
    files = artifacts.list(run_id, relative, recursive=recursive) if entry else []
    return convert.respond(
        models.ArtifactListing(
            run_id=run_id,
            path=relative,
            entry=models.artifact_entry(entry) if entry else None,
            files=[models.artifact_entry(f) for f in files],
        )
    )


@router.get(
    "/runs/{run_id}/artifacts/{path:path}",
    responses={**responses(400, 404), 200: {"content": {"application/octet-stream": {}}}},
    response_class=Response,
)
def download_run_artifact(
    run_id: str, path: str, artifacts: ArtifactStore = Depends(get_artifact_store)
) -> Response:
    """Download one file of a run's artifacts, streamed."""
    with tracking_errors():
        relative = validate_path(path, "path")
        validate_run_id(run_id)
    return file_response(artifacts, run_id, relative, inline=False)


@router.put(
    "/runs/{run_id}/artifacts/{path:path}",
    response_model=models.ArtifactStored,
    responses=responses(400, 404),
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def upload_run_artifact(
    run_id: str,
    path: str,
    request: Request,
    store: TrackingStore = Depends(get_tracking_store),
    artifacts: ArtifactStore = Depends(get_artifact_store),
) -> Response:
    """Store the request's body as the file ``path`` of a run's artifacts (replacing a
    file of that path). The body is streamed; the file appears whole or not at all."""
    with tracking_errors():
        relative = validate_path(path, "path")
        validate_run_id(run_id)
    if not relative:
        raise ApiError("INVALID_ARTIFACT_PATH", "Give the path of the file after /artifacts/.")
    await run_in_threadpool(read_run, store, run_id)
    size = 0
    with tempfile.SpooledTemporaryFile(_SPOOL) as spool:
        async for chunk in request.stream():
            size += len(chunk)
            await run_in_threadpool(spool.write, chunk)
        spool.seek(0)
        with tracking_errors():
            await run_in_threadpool(artifacts.upload, run_id, relative, spool)  # type: ignore[arg-type]
    return convert.respond(models.ArtifactStored(run_id=run_id, path=relative, size=size))
