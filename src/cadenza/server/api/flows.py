"""``GET /api/flows``: the flows known to the server."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from cadenza.server.api import convert, models
from cadenza.server.api.deps import get_store
from cadenza.store.base import RunStore

router = APIRouter(tags=["flows"])


@router.get("/flows", response_model=models.FlowList)
def list_flows(store: RunStore = Depends(get_store)) -> Response:
    """List every flow.

    Flows come by name, each with its number of runs, when its latest run was created
    and that run's current state.
    """
    return convert.respond(models.FlowList(items=[convert.flow(f) for f in store.list_flows()]))
