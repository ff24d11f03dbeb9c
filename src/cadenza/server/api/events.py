"""``POST /api/events``: clients report what their runs did, in batches.

A batch is recorded in one transaction; the same batch delivered twice (a client
retrying after a lost response) is recorded once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from cadenza.events_json import InvalidEvents, decode_events
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError
from cadenza.store.base import RunStore

router = APIRouter(tags=["events"])

MAX_EVENTS = 50_000


class EventBatch(BaseModel):
    """Events in their JSON form (see :mod:`cadenza.events_json`)."""

    events: list[dict[str, Any]] = Field(max_length=MAX_EVENTS)


@router.post("/events")
def ingest(batch: EventBatch, store: RunStore = Depends(get_store)) -> dict[str, int]:
    """Record a batch of run events; returns how many were received."""
    try:
        events = decode_events(batch.events)
    except InvalidEvents as exc:
        raise ApiError("INVALID_PARAMETER_VALUE", str(exc)) from None
    store.apply(events)
    from cadenza.server.services.automations import note_ingested

    note_ingested(store, events)
    return {"received": len(events)}
