"""Clients of a cadenza server, and the one place that chooses between the server and
the embedded store for deployments, work pools and their runs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza.store.deploy_base import DeploymentStore

_lock = threading.Lock()


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
    from cadenza.exceptions import CadenzaError

    raise CadenzaError(
        f"CADENZA_API_URL is set ({settings.api_url}), but deployments on a cadenza server "
        "are not available in this version. Unset CADENZA_API_URL to use the local database."
    )
