"""Background services of the server (scheduler, crash monitor, automations...).

A service is an object with ``name`` and ``async run(app)``: a loop started with
the server and cancelled when it stops. A service that raises is logged and
restarted after a pause; it never stops the server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

logger = logging.getLogger("cadenza.server.services")


class Service(Protocol):
    name: str

    async def run(self, app: Any) -> None: ...


async def supervise(service: Service, app: Any, pause: float = 5.0) -> None:
    """Run ``service`` until cancelled, restarting it after a pause if it fails."""
    while True:
        try:
            await service.run(app)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Service %s failed; restarting it in %.0f s.", service.name, pause)
            await asyncio.sleep(pause)


def default_services() -> list[Service]:
    """The services a server runs (later features add theirs here)."""
    from cadenza.server.services import automations
    from cadenza.server.services.monitor import MonitorService
    from cadenza.server.services.scheduler import SchedulerService

    return [SchedulerService(), MonitorService(), *automations.services()]
