"""The web UI: server-rendered pages over the run store.

Pages (one module each): the dashboard ``/``, flow runs ``/runs``, a flow run
``/runs/{id}``, a task run ``/task-runs/{id}``, artifacts ``/artifacts``, deployments
``/deployments`` and ``/deployments/{id}``, work pools ``/work-pools``, and the
login page when the server has an API key. What the pages fetch while open lives
under ``/ui/`` (timeline data, log tail, state polling), static files under
``/ui/static/``. Routes are thin: they call the store and render a template.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from starlette.staticfiles import StaticFiles

from cadenza.server.ui import (
    actions,
    artifacts,
    auth,
    dashboard,
    deployments,
    logs,
    run_page,
    runs_list,
    task_page,
    timeline,
)
from cadenza.server.ui.templating import STATIC


def build_router() -> APIRouter:
    """Every route of the UI; all but the login page need a login when the server
    has an API key."""
    router = APIRouter()
    router.include_router(auth.router)
    protected = APIRouter(dependencies=[Depends(auth.require_login)])
    for module in (
        dashboard,
        runs_list,
        run_page,
        task_page,
        artifacts,
        deployments,
        timeline,
        logs,
        actions,
    ):
        protected.include_router(module.router)
    router.include_router(protected)
    return router


def mount(app: FastAPI) -> None:
    """Serve the UI from ``app``: its routes, static files and login redirects."""
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(build_router())
    app.add_exception_handler(auth.LoginRequired, auth.login_redirect)  # type: ignore[arg-type]
    app.add_exception_handler(auth.CrossSiteRequest, auth.cross_site)  # type: ignore[arg-type]
