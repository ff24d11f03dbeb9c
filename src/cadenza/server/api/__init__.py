"""The REST API, mounted under ``/api``: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from cadenza.server.api import events, health
from cadenza.server.api.deps import check_api_key


def build_router() -> APIRouter:
    router = APIRouter()
    router.include_router(health.router)
    protected = APIRouter(dependencies=[Depends(check_api_key)])
    protected.include_router(events.router)
    router.include_router(protected)
    return router
