"""The login cookie: a token derived from the server's API key, never the key itself."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

COOKIE = "cadenza_session"


def session_token(api_key: str) -> str:
    """The cookie value for a server with ``api_key``."""
    return hmac.new(api_key.encode(), b"cadenza-ui-session-v1", hashlib.sha256).hexdigest()


def is_logged_in(request: Request) -> bool:
    """True on a server without an API key, or with the cookie of its key."""
    key: str | None = request.app.state.api_key
    if not key:
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie, session_token(key))
