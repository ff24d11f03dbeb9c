"""What the tracking routes depend on: the tracking store, the artifact store, and the
errors of tracking as API errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fastapi import Request

from cadenza.exceptions import ObjectNotFound
from cadenza.server.api.errors import ApiError
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.artifacts import ArtifactStore, FsspecArtifactStore
from cadenza.tracking.errors import (
    ExperimentAlreadyExists,
    InvalidArtifactPath,
    InvalidFilter,
    InvalidTrackingValue,
    ParamConflict,
)


def get_tracking_store(request: Request) -> TrackingStore:
    """The server's store, as a tracking store."""
    store = request.app.state.store
    if not isinstance(store, TrackingStore):
        raise ApiError("INTERNAL_ERROR", "This server's store does not keep tracking data.")
    return store


def get_artifact_store(request: Request) -> ArtifactStore:
    """The server's artifact store: ``app.state.artifact_store`` when set, else the
    folder or URL of its ``CADENZA_ARTIFACT_ROOT`` (by default ``CADENZA_HOME/artifacts``).

    Always a store of its own storage, also when the server's environment has
    ``CADENZA_API_URL`` set.
    """
    state = request.app.state
    store: ArtifactStore | None = getattr(state, "artifact_store", None)
    if store is None:
        from cadenza.settings import get_settings

        store = state.artifact_store = FsspecArtifactStore(get_settings().resolved_artifact_root)
    return store


_CODES: tuple[tuple[type[Exception], str], ...] = (
    (InvalidFilter, "INVALID_FILTER"),
    (InvalidArtifactPath, "INVALID_ARTIFACT_PATH"),
    (ParamConflict, "PARAM_CONFLICT"),  # before its base class, InvalidTrackingValue
    (InvalidTrackingValue, "INVALID_PARAMETER_VALUE"),
    (ExperimentAlreadyExists, "CONFLICT"),
    (ObjectNotFound, "NOT_FOUND"),
)
"""The API's code of each error of tracking, the first class that matches winning."""


@contextlib.contextmanager
def tracking_errors() -> Iterator[None]:
    """Raise the errors of tracking as the API's errors (with their codes)."""
    try:
        yield
    except tuple(cls for cls, _ in _CODES) as exc:
        code = next(code for cls, code in _CODES if isinstance(exc, cls))
        raise ApiError(code, str(exc)) from None
