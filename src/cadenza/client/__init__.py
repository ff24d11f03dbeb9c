"""Clients of a cadenza server, and the one place that chooses between the server and
the embedded store for deployments, work pools and their runs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza.store.deploy_base import DeploymentStore

_lock = threading.Lock()
_http_stores: dict[tuple[str, str | None], DeploymentStore] = {}


def get_deployment_store() -> DeploymentStore:
    """Where deployments, work pools and the runs of deployments are read and written.

    With ``CADENZA_API_URL`` set, the server at that URL (over its REST API, with
    ``CADENZA_API_KEY``); otherwise the database of the settings (the same store
    the runs are recorded in), opened once per process.
    """
    from cadenza.settings import get_settings

    settings = get_settings()
    if not settings.api_url:
        from cadenza.store import get_store
        from cadenza.store.sql import SqlStore

        store = get_store(settings.resolved_database_url)
        assert isinstance(store, SqlStore)
        return store
    key = (settings.api_url, settings.api_key)
    with _lock:
        found = _http_stores.get(key)
        if found is None:
            from cadenza.client.http_deploy import HttpDeploymentStore

            found = _http_stores[key] = HttpDeploymentStore(settings.api_url, settings.api_key)
        return found


def close_clients() -> None:
    """Close the server clients opened by :func:`get_deployment_store`."""
    with _lock:
        stores = list(_http_stores.values())
        _http_stores.clear()
    for store in stores:
        close = getattr(store, "close", None)
        if close is not None:
            close()
