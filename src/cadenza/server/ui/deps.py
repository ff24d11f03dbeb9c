"""What the UI's routes depend on."""

from __future__ import annotations

from fastapi import Request

from cadenza.store.base import RunStore


def get_store(request: Request) -> RunStore:
    """The store the server was started with."""
    store: RunStore = request.app.state.store
    return store
