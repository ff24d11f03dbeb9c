"""What the API's routes depend on: the store, and the API key check."""

from __future__ import annotations

import hmac

from fastapi import Request

from cadenza.server.api.errors import ApiError
from cadenza.store.base import RunStore


def get_store(request: Request) -> RunStore:
    """The store the server was started with."""
    store: RunStore = request.app.state.store
    return store


def check_api_key(request: Request) -> None:
    """Require ``Authorization: Bearer <key>`` when the server has an API key."""
    expected: str | None = request.app.state.api_key
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise ApiError(
            "UNAUTHENTICATED",
            "This server requires an API key: send 'Authorization: Bearer <key>' "
            "(set CADENZA_API_KEY for cadenza clients).",
        )
