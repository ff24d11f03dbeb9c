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


@contextlib.contextmanager
def tracking_errors() -> Iterator[None]:
    """Raise the errors of tracking as the API's errors (with their codes)."""
    try:
        yield
    except InvalidFilter as exc:
        raise ApiError("INVALID_FILTER", str(exc)) from None
    except InvalidArtifactPath as exc:
        raise ApiError("INVALID_ARTIFACT_PATH", str(exc)) from None
    except ParamConflict as exc:
        raise ApiError("PARAM_CONFLICT", str(exc)) from None
    except InvalidTrackingValue as exc:
        raise ApiError("INVALID_PARAMETER_VALUE", str(exc)) from None
    except ExperimentAlreadyExists as exc:
        raise ApiError("CONFLICT", str(exc)) from None
    except ObjectNotFound as exc:
        raise ApiError("NOT_FOUND", str(exc)) from None
