"""Logging in to the UI of a server that has an API key.

The login page asks for the key; the server answers with an HttpOnly, SameSite=Lax
cookie holding a token derived from the key (never the key itself). Every page
depends on :func:`require_login`, which sends a browser without a valid cookie to
the login page. Changing the server's key logs everyone out.

Forms that change something (log out, retry, cancel) also pass :func:`same_origin`:
a POST whose ``Origin`` (or ``Referer``) is another site is refused.
"""

from __future__ import annotations

import asyncio
import hmac
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from cadenza.server.ui.session import COOKIE, is_logged_in, session_token
from cadenza.server.ui.templating import render, secure

SESSION_DAYS = 30
FAILED_LOGIN_DELAY = 0.5
"""Seconds a wrong key waits before its answer, to slow down guessing."""

router = APIRouter()


class LoginRequired(Exception):
    """The request needs a login first; ``next`` is where to go afterwards."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CrossSiteRequest(Exception):
    """A form post that came from another site."""


def require_login(request: Request) -> None:
    """Dependency of every UI route: a server with an API key needs a login."""
    if not is_logged_in(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)


def same_origin(request: Request) -> None:
    """Dependency of the UI's POST routes: refuse posts made by other sites."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return  # not sent by a browser: the API key (if any) is what protects it
    host = request.headers.get("host", "")
    if urlsplit(source).netloc != host:
        raise CrossSiteRequest(source)


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of this server, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def login_redirect(request: Request, exc: LoginRequired) -> Response:
    """Pages go to the login page; fragments fetched by the page's scripts get a 401."""
    if request.url.path.startswith("/ui/"):
        return secure(Response("Log in again: the session has expired.", status_code=401))
    return secure(RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", 303))


def cross_site(request: Request, exc: CrossSiteRequest) -> Response:
    return secure(Response("Refused: this form was sent from another site.", status_code=403))


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form post (the first value of each)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    if not request.app.state.api_key or is_logged_in(request):
        return secure(RedirectResponse(safe_next(next), 303))
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    same_origin(request)
    fields = await form_fields(request)
    next_url = safe_next(fields.get("next"))
    key: str | None = request.app.state.api_key
    if not key:
        return secure(RedirectResponse(next_url, 303))
    given = fields.get("api_key", "").strip()
    if not hmac.compare_digest(session_token(given), session_token(key)):
        await asyncio.sleep(FAILED_LOGIN_DELAY)
        return render(
            request,
            "login.html",
            {"next": next_url, "error": "That is not this server's API key."},
            status_code=401,
        )
    response = RedirectResponse(next_url, 303)
    response.set_cookie(
        COOKIE,
        session_token(key),
        max_age=SESSION_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return secure(response)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    same_origin(request)
    response = RedirectResponse("/login" if request.app.state.api_key else "/", 303)
    response.delete_cookie(COOKIE, path="/")
    return secure(response)
