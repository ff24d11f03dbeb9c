"""``/api/automations``: when flow runs enter states, notify channels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from cadenza.notify.automations import Automation, trigger_from_dict
from cadenza.server.api import notify_models as m
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, responses
from cadenza.server.api.notify_models import notify_errors

router = APIRouter(tags=["notifications"])
NAME = Path(pattern=m.NAME_PATTERN, description="The automation's name.")


def _trigger(trigger: m.Trigger) -> dict[str, Any]:
    data = trigger.model_dump()
    data.pop("within" if trigger.type == "flow-run-state" else "states")
    return data


def _missing(name: str) -> ApiError:
    return ApiError("NOT_FOUND", f"There is no automation named {name!r}.")


@router.get("/automations", response_model=m.AutomationList)
def list_automations(store: Any = Depends(get_store)) -> dict[str, Any]:
    """List the automations, by name."""
    return {"items": [a.to_dict() for a in store.list_automations()]}


@router.post(
    "/automations", response_model=m.Automation, status_code=201, responses=responses(400, 409)
)
def create_automation(body: m.AutomationCreate, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Create an automation (or replace one, with ``replace``). Its channels must
    exist; its templates must render."""
    automation = Automation(
        body.name,
        trigger_from_dict(_trigger(body.trigger)),
        body.channels,
        subject=body.subject,
        body=body.body,
        enabled=body.enabled,
        description=body.description,
    )
    with notify_errors():
        stored: Automation = store.create_automation(automation, replace=body.replace)
    return stored.to_dict()


@router.get("/automations/{name}", response_model=m.Automation, responses=responses(404))
def get_automation(name: str = NAME, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Read one automation."""
    found: Automation | None = store.read_automation(name)
    if found is None:
        raise _missing(name)
    return found.to_dict()


@router.delete("/automations/{name}", status_code=204, responses=responses(404))
def delete_automation(name: str = NAME, store: Any = Depends(get_store)) -> Response:
    """Delete an automation; its messages stay in the history."""
    if not store.delete_automation(name):
        raise _missing(name)
    return Response(status_code=204)


def _set_enabled(store: Any, name: str, enabled: bool) -> dict[str, Any]:
    if not store.set_automation_enabled(name, enabled):
        raise _missing(name)
    found: Automation = store.read_automation(name)
    return found.to_dict()


@router.post("/automations/{name}/enable", response_model=m.Automation, responses=responses(404))
def enable(name: str = NAME, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Enable an automation."""
    return _set_enabled(store, name, True)


@router.post("/automations/{name}/disable", response_model=m.Automation, responses=responses(404))
def disable(name: str = NAME, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Disable an automation: it does nothing until enabled again."""
    return _set_enabled(store, name, False)
