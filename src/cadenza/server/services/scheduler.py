"""The scheduler service of the server: a pass of :class:`~cadenza.deploy.scheduler.Scheduler`
every ``CADENZA_SCHEDULER_INTERVAL`` seconds (creating runs ahead, marking late runs,
applying catch-up policies)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

logger = logging.getLogger("cadenza.server.services")


class SchedulerService:
    """Runs the scheduler against the server's store, in a thread, on an interval."""

    name = "scheduler"

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval

    async def run(self, app: Any) -> None:
        from cadenza.deploy.scheduler import Scheduler
        from cadenza.settings import get_settings

        settings = get_settings()
        interval = settings.scheduler_interval if self.interval is None else self.interval
        scheduler = Scheduler(app.state.store, settings=settings)
        while True:
            await asyncio.to_thread(scheduler.tick)
            await asyncio.sleep(interval)
