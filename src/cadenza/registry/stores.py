"""Which registry store the fluent functions and the client use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza.store.registry_base import RegistryStore

_lock = threading.Lock()
_remote: dict[tuple[str, str | None], RegistryStore] = {}


def registry_store(registry_uri: str | None = None) -> RegistryStore:
    """The registry at ``registry_uri``: a cadenza server (``http://...``) or a database
    URL; by default the settings' server (``CADENZA_API_URL``) when set, else the
    settings' database (the embedded SQLite file)."""
    from cadenza.settings import get_settings

    settings = get_settings()
    uri = registry_uri or settings.api_url
    if uri and uri.startswith(("http://", "https://")):
        key = (uri, settings.api_key)
        with _lock:
            store = _remote.get(key)
            if store is None:
                from cadenza.client.http_registry import HttpRegistryStore

                store = _remote[key] = HttpRegistryStore(uri, api_key=settings.api_key)
        return store
    from cadenza.store import get_store
    from cadenza.store.registry_base import RegistryStore

    found = get_store(uri or None)
    if not isinstance(found, RegistryStore):  # every SQL store is one
        raise TypeError(f"{type(found).__name__} has no model registry")
    return found


def current_user() -> str | None:
    """The OS user of this process, recorded as who moved a stage or an alias."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return None
