"""``GET /api/health``: is the server up and its store usable."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from cadenza import __version__
from cadenza.server.api import models
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import responses
from cadenza.store.base import RunStore

router = APIRouter(tags=["health"])


@router.get("/health", response_model=models.Health, responses=responses(503))
def health(store: RunStore = Depends(get_store)) -> models.Health:
    """Tell whether the server is up and its store answers, and the server's version.

    The only route that needs no API key.
    """
    store.count_flow_runs()
    return models.Health(status="ok", version=__version__)
