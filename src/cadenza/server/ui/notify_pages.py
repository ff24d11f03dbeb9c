"""Notification pages: ``/automations`` (with the form creating one), ``/channels``
and ``/notifications`` (the delivery history, ``/notifications/{id}`` one message and
its attempts).

Channels show their secrets as ``••••`` or ``env:NAME``, never a value. The form
posts to the UI, which checks the login and the origin, then writes through the
store; a refused value shows the form again with the error and what was typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cadenza.exceptions import InvalidNotificationConfig, ObjectAlreadyExists
from cadenza.notify.automations import EVENTS, Automation, FlowRunStateTrigger
from cadenza.notify.records import STATUSES
from cadenza.server.ui.auth import same_origin
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.run_page import not_found
from cadenza.server.ui.templating import render, secure, set_flash

router = APIRouter()
PAGE_SIZE = 50
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


async def _form(request: Request) -> dict[str, list[str]]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qs(body, keep_blank_values=True)


def _first(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0].strip()


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@router.get("/automations", include_in_schema=False)
def automations_page(request: Request, store: Any = Depends(get_store)) -> Response:
    automations = store.list_automations()
    return render(
        request,
        "automations.html",
        {
            "section": "notifications",
            "tab": "automations",
            "automations": automations,
            "channel_count": len(store.list_channels()),
        },
    )


def _render_form(
    request: Request,
    store: Any,
    values: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "automation_form.html",
        {
            "section": "notifications",
            "tab": "automations",
            "events": EVENTS,
            "channels": store.list_channels(),
            "values": values,
            "error": error,
        },
        status_code=status_code,
    )


_EMPTY_FORM: dict[str, Any] = {
    "name": "",
    "states": ["Failed", "Crashed", "Recovered"],
    "channels": [],
    "flows": "",
    "deployments": "",
    "tags": "",
    "subject": "",
    "body": "",
    "description": "",
    "enabled": True,
}


@router.get("/automations/new", include_in_schema=False)
def new_automation(request: Request, store: Any = Depends(get_store)) -> Response:
    return _render_form(request, store, dict(_EMPTY_FORM))


@router.post("/automations", include_in_schema=False, dependencies=[Depends(same_origin)])
async def create_automation(request: Request, store: Any = Depends(get_store)) -> Response:
    form = await _form(request)
    values: dict[str, Any] = {
        "name": _first(form, "name"),
        "states": form.get("states", []),
        "channels": form.get("channels", []),
        "flows": _first(form, "flows"),
        "deployments": _first(form, "deployments"),
        "tags": _first(form, "tags"),
        "subject": _first(form, "subject"),
        "body": (form.get("body") or [""])[0],
        "description": _first(form, "description"),
        "enabled": bool(form.get("enabled")),
    }
    try:
        automation = Automation(
            values["name"],
            FlowRunStateTrigger(
                values["states"],
                flows=_names(values["flows"]),
                deployments=_names(values["deployments"]),
                tags=_names(values["tags"]),
            ),
            values["channels"],
            subject=values["subject"] or None,
            body=values["body"].strip() or None,
            enabled=values["enabled"],
            description=values["description"] or None,
        )
        stored = store.create_automation(automation)
    except (InvalidNotificationConfig, ObjectAlreadyExists) as exc:
        return _render_form(request, store, values, str(exc), status_code=400)
    from cadenza.notify.runtime import forget_automations_cache

    forget_automations_cache()
    response = RedirectResponse("/automations", 303)
    set_flash(response, "ok", f"Created automation {stored.name}.")
    return secure(response)


_ACTIONS = {"enable", "disable", "delete"}


@router.post(
    "/automations/{name}/{action}", include_in_schema=False, dependencies=[Depends(same_origin)]
)
def automation_action(
    request: Request, name: str, action: str, store: Any = Depends(get_store)
) -> Response:
    if action not in _ACTIONS or not set(name) <= _NAME_CHARS:
        return not_found(request, "automation", name)
    if action == "delete":
        done = store.delete_automation(name)
    else:
        done = store.set_automation_enabled(name, action == "enable")
    from cadenza.notify.runtime import forget_automations_cache

    forget_automations_cache()
    response = RedirectResponse("/automations", 303)
    if done:
        past = {"enable": "Enabled", "disable": "Disabled", "delete": "Deleted"}[action]
        set_flash(response, "ok", f"{past} automation {name}.")
    else:
        set_flash(response, "error", f"There is no automation named {name}.")
    return secure(response)


@router.get("/channels", include_in_schema=False)
def channels_page(request: Request, store: Any = Depends(get_store)) -> Response:
    return render(
        request,
        "channels.html",
        {
            "section": "notifications",
            "tab": "channels",
            "channels": [c.public() for c in store.list_channels()],
        },
    )


@router.get("/notifications", include_in_schema=False)
def notifications_page(
    request: Request,
    automation: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    before: str | None = None,
    store: Any = Depends(get_store),
) -> Response:
    filters = {
        "automation": (automation or "").strip() or None,
        "channel": (channel or "").strip() or None,
        "status": status if status in STATUSES else None,
    }
    found = store.list_messages(**filters, limit=PAGE_SIZE + 1, before_id=before or None)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    params = [(k, v) for k, v in filters.items() if v]
    older = None
    if more and found:
        older = "/notifications?" + urlencode([*params, ("before", found[-1].id)])
    return render(
        request,
        "notifications.html",
        {
            "section": "notifications",
            "tab": "history",
            "messages": found,
            "filters": {k: v or "" for k, v in filters.items()},
            "statuses": STATUSES,
            "older_url": older,
        },
    )


@router.get("/notifications/{message_id}", include_in_schema=False)
def notification_page(
    request: Request, message_id: str, store: Any = Depends(get_store)
) -> Response:
    found = store.read_message(message_id)
    if found is None:
        return not_found(request, "notification", message_id)
    return render(
        request,
        "notification.html",
        {
            "section": "notifications",
            "tab": "history",
            "message": found,
            "attempts": store.list_attempts(message_id),
        },
    )
