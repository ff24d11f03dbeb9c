"""What the API's routes depend on: the store, the API key check, and the check that
a request names only parameters its route knows."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant

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
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise ApiError(
            "UNAUTHENTICATED",
            "This server requires an API key: send 'Authorization: Bearer <key>' "
            "(set CADENZA_API_KEY for cadenza clients).",
        )


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query_params(request: Request) -> None:
    """Refuse query parameters the route does not know (a misspelt filter would
    otherwise be ignored and return every run)."""
    if not request.query_params:
        return
    route: Any = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: frozenset[str] | None = getattr(route, "_cadenza_query_names", None)
    if known is None:
        known = frozenset(_query_names(dependant))
        route._cadenza_query_names = known
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"Unknown query parameter {unknown[0]!r}; this endpoint takes: {allowed}.",
            [{"field": name, "message": "unknown parameter"} for name in unknown],
        )
