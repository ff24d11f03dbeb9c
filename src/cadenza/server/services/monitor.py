"""The crash monitor service of the server: a pass of :class:`~cadenza.deploy.monitor.Monitor`
every ``CADENZA_MONITOR_INTERVAL`` seconds (runs of silent workers, runs whose process
is gone, retries of crashed runs of deployments)."""

from __future__ import annotations

import asyncio
from typing import Any


class MonitorService:
    """Runs the crash monitor against the server's store, in a thread, on an interval."""

    name = "monitor"

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval

    async def run(self, app: Any) -> None:
        from cadenza.deploy.monitor import Monitor
        from cadenza.settings import get_settings

        settings = get_settings()
        interval = settings.monitor_interval if self.interval is None else self.interval
        monitor = Monitor(app.state.store, settings=settings)
        while True:
            await asyncio.to_thread(monitor.tick)
            await asyncio.sleep(interval)
