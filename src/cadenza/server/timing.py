"""The ``Server-Timing`` header: how long the server spent on each request.

Every HTTP response of the server says, in milliseconds, how long passed from the
moment the application received the request to the moment it started to send the
response (routing, reading the body, the store's queries, rendering)::

    Server-Timing: app;dur=4.217

The time the request and the response spend in the network and in the HTTP server
is not in it: a client that measures both sees how much is the server's. Browsers
show the figure in their developer tools.

This module needs nothing but the standard library, so that other ASGI
applications can be wrapped with it and timed the same way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = b"server-timing"
METRIC = "app"

_clock = time.perf_counter


def header_value(seconds: float) -> bytes:
    """The header's value for a request that took ``seconds``."""
    return f"{METRIC};dur={seconds * 1000:.3f}".encode("ascii")


def parse_duration_ms(value: str) -> float | None:
    """The duration in milliseconds of the ``app`` metric in a ``Server-Timing`` value.

    None when the value has no such metric or its duration is not a number.
    """
    for metric in value.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        if name != METRIC:
            continue
        for param in params:
            key, _, number = param.partition("=")
            if key.strip() == "dur":
                try:
                    return float(number)
                except ValueError:
                    return None
    return None


class ServerTiming:
    """ASGI middleware adding ``Server-Timing: app;dur=<ms>`` to every HTTP response.

    Args:
        app: the application to time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = _clock()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (HEADER, header_value(_clock() - started))]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_timed)
