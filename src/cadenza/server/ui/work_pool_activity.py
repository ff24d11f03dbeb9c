"""What the work pools page shows of a pool's activity: its workers with their last
heartbeat, and the runs waiting for them."""

from __future__ import annotations

import time
from typing import Any

from cadenza.store.sql import SqlStore

WAITING_SHOWN = 10
"""The next due runs shown per pool."""


def pool_activity(store: SqlStore, pool_name: str) -> dict[str, Any]:
    """``workers``: (worker, online) pairs, most recent heartbeat first; ``next_runs``:
    the soonest due runs of the pool, Late ones included."""
    from cadenza.settings import get_settings

    now, timeout = time.time(), get_settings().heartbeat_timeout
    workers = store.list_workers(pool_name=pool_name)
    return {
        "workers": [(w, w.is_online(now, timeout)) for w in workers],
        "next_runs": store.list_scheduled_flow_runs(work_pool_name=pool_name, limit=WAITING_SHOWN),
    }
