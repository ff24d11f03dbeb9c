"""The run page's buttons: retry (resume) and cancel a flow run.

The buttons are plain form posts to the UI, which checks the login and calls the
REST API (``POST /api/flow_runs/{id}/retry`` and ``.../cancel``) in-process with
the server's key, then sends the browser back to the run page, which follows the
run until its state changes. The page's scripts never see the key: the login
cookie is HttpOnly.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cadenza.server.ui.auth import same_origin
from cadenza.server.ui.templating import secure, set_flash

router = APIRouter()

_RUN_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
ACTIONS = {
    "retry": ("Retry requested: the run resumes from where it failed.", "Retry failed"),
    "cancel": ("Cancellation requested.", "Cancel failed"),
}


async def call_api(
    request: Request, method: str, path: str, *, json: Any = None
) -> tuple[int, Any]:
    """Call this server's own API in-process (with ``json`` as the body when given);
    returns the status and the JSON body."""
    headers = {"Accept": "application/json"}
    key: str | None = request.app.state.api_key
    if key:
        headers["Authorization"] = f"Bearer {key}"
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://cadenza-ui.local", timeout=60
    ) as client:
        response = await client.request(method, path, headers=headers, json=json)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def _error_text(status: int, body: Any) -> str:
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    if status == 404:
        return "the server has no such action (its API is older than this page)."
    return f"the API answered {status}."


async def _act(request: Request, run_id: str, action: str) -> Response:
    if not _RUN_ID.fullmatch(run_id):
        return secure(Response("Not a run id.", status_code=404))
    status, body = await call_api(request, "POST", f"/api/flow_runs/{run_id}/{action}")
    done, failed = ACTIONS[action]
    response = RedirectResponse(f"/runs/{run_id}?watch=1", 303)
    if 200 <= status < 300:
        set_flash(response, "ok", done)
    else:
        set_flash(response, "error", f"{failed}: {_error_text(status, body)}")
    return secure(response)


@router.post("/runs/{run_id}/retry", include_in_schema=False, dependencies=[Depends(same_origin)])
async def retry(request: Request, run_id: str) -> Response:
    return await _act(request, run_id, "retry")


@router.post("/runs/{run_id}/cancel", include_in_schema=False, dependencies=[Depends(same_origin)])
async def cancel(request: Request, run_id: str) -> Response:
    return await _act(request, run_id, "cancel")
