"""The server application's start-up: what ``create_app`` does when the server starts."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from cadenza.server.app import create_app
from cadenza.store.sql import SqlStore


def _frozen_while_started(tmp_path: Path, **options: bool) -> int:
    """Objects frozen out of the garbage collector's sight while the app has started."""
    store = SqlStore(f"sqlite:///{tmp_path / 'cadenza.db'}")
    app = create_app(store, api_key="", services=[], ui=False, **options)

    async def started() -> int:
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    gc.unfreeze()
    try:
        return asyncio.run(started())
    finally:
        gc.unfreeze()  # this test process is not a server
        store.close()


def test_a_server_process_freezes_what_it_holds_at_start(tmp_path: Path) -> None:
    assert _frozen_while_started(tmp_path, freeze_gc=True) > 10_000


@pytest.mark.parametrize("options", [{}, {"freeze_gc": False}])
def test_an_app_in_another_process_leaves_the_collector_alone(
    tmp_path: Path, options: dict[str, bool]
) -> None:
    assert _frozen_while_started(tmp_path, **options) == 0
