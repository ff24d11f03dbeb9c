"""The run store: where flows, runs, states and logs are kept."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza.store.base import RunStore

_lock = threading.Lock()
_stores: dict[str, RunStore] = {}


def get_store(url: str | None = None) -> RunStore:
    """The store at ``url`` (default: the settings' database), opened once per process.

    Opening checks the schema: an empty database gets cadenza's tables, an older one
    raises :class:`~cadenza.exceptions.StoreSchemaError` naming the command to run.
    """
    if url is None:
        from cadenza.settings import get_settings

        url = get_settings().resolved_database_url
    store = _stores.get(url)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(url)
        if store is None:
            from cadenza.store.sql import SqlStore

            store = SqlStore(url)
            _stores[url] = store
    return store


def close_stores() -> None:
    """Close every store opened by :func:`get_store`."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
