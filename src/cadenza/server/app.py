"""The server application: ``create_app()``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Sequence

from fastapi import FastAPI

from cadenza import __version__
from cadenza.server.api import build_router
from cadenza.server.api.errors import install_error_handlers
from cadenza.server.services import Service, default_services, supervise
from cadenza.server.timing import ServerTiming
from cadenza.store.base import RunStore


def create_app(
    store: RunStore | None = None,
    *,
    database_url: str | None = None,
    api_key: str | None = None,
    services: Sequence[Service] | None = None,
    ui: bool = True,
    freeze_gc: bool = False,
) -> FastAPI:
    """The cadenza server as an ASGI app.

    Args:
        store: the store to serve; by default the one of ``database_url``, or of
            the settings (``CADENZA_DATABASE_URL`` or the embedded SQLite file).
        api_key: require this bearer token on the API (and a login in the UI); by
            default the settings' ``CADENZA_SERVER_API_KEY``. An empty string means
            no key, whatever the settings.
        services: background services to run; by default :func:`default_services`.
        ui: serve the web UI at ``/``.
        freeze_gc: when the server starts, move every object the process holds then
            (modules, routes, schemas, the store) out of the garbage collector's sight
            with :func:`gc.freeze`, so that a full collection does not walk them again
            and again: on a busy server those pauses (about 50 ms each, every few dozen
            requests) were most of the slowest requests. For a process that is the
            server, as ``cadenza server start`` is.

    Every response carries a ``Server-Timing`` header with the time the server spent
    on the request (see :mod:`cadenza.server.timing`).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            from cadenza.store import get_store

            app.state.store = get_store(database_url)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        tasks = [asyncio.create_task(supervise(s, app)) for s in app.state.services]
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    app = FastAPI(
        title="cadenza",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    if api_key is None:
        from cadenza.settings import get_settings

        api_key = get_settings().server_api_key
    app.state.api_key = api_key or None
    app.state.services = list(default_services() if services is None else services)
    install_error_handlers(app)
    app.add_middleware(ServerTiming)
    app.include_router(build_router(), prefix="/api")
    if ui:
        from cadenza.server.ui import mount

        mount(app)
    return app
