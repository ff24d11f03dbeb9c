"""A server with an API key: the UI asks for it once and keeps a session cookie."""

from __future__ import annotations

from typing import Any

import httpx

from tests.server.ui.conftest import API_KEY, Server


def test_login_with_the_api_key(
    anonymous_page: Any, server: Server, seeded: dict[str, str], screenshot: Any
) -> None:
    page = anonymous_page
    target = f"{server.url}/runs/{seeded['etl']}"
    page.goto(target)
    page.wait_for_url(f"{server.url}/login?next=*")
    screenshot(page, "login")

    page.fill("input[name=api_key]", "not-the-key")
    page.click("button[type=submit]")
    assert page.locator(".flash-error").inner_text() == "That is not this server's API key."

    page.fill("input[name=api_key]", API_KEY)
    page.click("button[type=submit]")
    page.wait_for_url(target)
    page.locator("#timeline[data-ready='1']").wait_for()  # its data came with the cookie
    cookie = next(c for c in page.context.cookies() if c["name"] == "cadenza_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert API_KEY not in cookie["value"]
    assert page.evaluate("document.cookie") == ""

    page.click("text=Log out")
    page.wait_for_url(server.url + "/login")
    page.goto(server.url + "/artifacts")
    page.wait_for_url(f"{server.url}/login?next=%2Fartifacts")


def test_without_a_session_fragments_answer_401_and_the_api_wants_the_key(
    server: Server, seeded: dict[str, str]
) -> None:
    run_id = seeded["etl"]
    with httpx.Client(base_url=server.url) as client:
        page = client.get(f"/runs/{run_id}")
        assert page.status_code == 303
        assert page.headers["location"] == f"/login?next=%2Fruns%2F{run_id}"
        assert client.get(f"/ui/runs/{run_id}/timeline.json").status_code == 401
        assert client.get(f"/ui/runs/{run_id}/logs").status_code == 401
        assert client.post(f"/runs/{run_id}/retry").status_code == 303  # to the login page
        assert client.get("/ui/static/cadenza.css").status_code == 200
        assert client.get("/api/health").status_code == 200


def test_login_refuses_to_redirect_elsewhere_and_forms_from_other_sites(
    server: Server, seeded: dict[str, str]
) -> None:
    with httpx.Client(base_url=server.url) as client:
        answer = client.post("/login", data={"api_key": API_KEY, "next": "//evil.example/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        assert "cadenza_session" in answer.cookies
        forged = client.post(
            f"/runs/{seeded['etl']}/cancel", headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403
