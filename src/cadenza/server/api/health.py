"""``GET /api/health``: is the server up and its store usable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from cadenza import __version__
from cadenza.server.api.deps import get_store
from cadenza.store.base import RunStore

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: RunStore = Depends(get_store)) -> dict[str, Any]:
    """The server's version and whether its store answers."""
    store.count_flow_runs()
    return {"status": "ok", "version": __version__}
