"""The Jinja2 environment of the UI and the one function that renders a page.

Autoescaping is on for every template: names, parameters, log lines and artifacts
are user content and reach the page escaped. Pages carry a Content-Security-Policy
that allows scripts and styles from the server only, so that even markup that got
through could not run.
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cadenza import __version__
from cadenza.server.ui.format import FILTERS
from cadenza.server.ui.session import is_logged_in

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

FLASH_COOKIE = "cadenza_flash"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals["version"] = __version__
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with ``context``, the request, and the flash message if any."""
    flash = read_flash(request)
    values: dict[str, Any] = {
        "request": request,
        "flash": flash,
        "login_required": bool(request.app.state.api_key),
        "logged_in": is_logged_in(request),
        "static": static_url,
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    secure(response)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def secure(response: Response) -> Response:
    """Add the UI's security headers to ``response``."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def static_url(path: str) -> str:
    """The URL of a static file, with the version against stale caches."""
    return f"/ui/static/{path}?v={__version__}"


def set_flash(response: Response, kind: str, text: str) -> None:
    """Show ``text`` once, on the next page rendered (``kind``: ``ok`` or ``error``)."""
    payload = json.dumps({"kind": kind, "text": text[:500]}).encode()
    response.set_cookie(
        FLASH_COOKIE,
        base64.urlsafe_b64encode(payload).decode(),
        max_age=60,
        path="/",
        httponly=True,
        samesite="strict",
    )


def read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    kind = "error" if value.get("kind") == "error" else "ok"
    return {"kind": kind, "text": str(value.get("text", ""))}
