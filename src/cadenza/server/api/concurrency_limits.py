"""``/api/concurrency_limits`` and ``/api/concurrency_slots``: limits by tag, and the
slots task runs take while they run (for runs reporting to this server)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import JSONResponse, Response

from cadenza.deploy.concurrency import limit_not_found
from cadenza.deploy.records import limit_json
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import responses
from cadenza.server.api.worker_models import AcquireBody, LimitBody, ReleaseSlotsBody, RenewBody
from cadenza.store.deploy_base import DeploymentStore

router = APIRouter(tags=["concurrency limits"])


@router.get("/concurrency_limits")
def list_limits(
    now: float | None = Query(None, description="Slots live at this time (default: now)."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """List the concurrency limits by tag, each with the slots held now."""
    return JSONResponse({"items": [limit_json(x) for x in store.list_concurrency_limits(now=now)]})


@router.get("/concurrency_limits/{tag:path}", responses=responses(404))
def read_limit(
    tag: str,
    now: float | None = Query(None, description="Slots live at this time (default: now)."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """Read the limit of a tag with the slots held now; 404 when the tag has none."""
    found = store.read_concurrency_limit(tag, now=now)
    if found is None:
        raise limit_not_found(store, tag)
    return JSONResponse(limit_json(found))


@router.put("/concurrency_limits/{tag:path}", responses=responses(400))
def set_limit(tag: str, body: LimitBody, store: DeploymentStore = Depends(get_store)) -> Response:
    """Create the limit of a tag, or change it."""
    return JSONResponse(limit_json(store.set_concurrency_limit(tag, body.limit, now=body.now)))


@router.delete("/concurrency_limits/{tag:path}")
def delete_limit(tag: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """Remove the limit of a tag and its slots; ``deleted`` is false when it had none."""
    return JSONResponse({"deleted": store.delete_concurrency_limit(tag)})


@router.post("/concurrency_slots/acquire")
def acquire(body: AcquireBody, store: DeploymentStore = Depends(get_store)) -> Response:
    """Take one slot of every limited tag of ``tags`` for ``holder``, all or none
    (``acquired`` is false when a limit is full)."""
    acquired = store.acquire_concurrency_slots(body.tags, body.holder, ttl=body.ttl, now=body.now)
    return JSONResponse({"acquired": acquired})


@router.post("/concurrency_slots/renew")
def renew(body: RenewBody, store: DeploymentStore = Depends(get_store)) -> Response:
    """Move the expiry of the live slots of ``holders``; answers how many (``renewed``)."""
    renewed = store.renew_concurrency_slots(body.holders, ttl=body.ttl, now=body.now)
    return JSONResponse({"renewed": renewed})


@router.post("/concurrency_slots/release")
def release(body: ReleaseSlotsBody, store: DeploymentStore = Depends(get_store)) -> Response:
    """Free the slots of ``holder``; answers how many it held (``released``)."""
    return JSONResponse({"released": store.release_concurrency_slots(body.holder)})
