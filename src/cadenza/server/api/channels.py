"""``/api/channels``: notification channels (e-mail, webhooks); secrets write-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from cadenza.notify.channels import Channel
from cadenza.notify.secrets import Secret
from cadenza.server.api import notify_models as m
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, responses
from cadenza.server.api.notify_models import notify_errors

router = APIRouter(tags=["notifications"])
NAME = Path(pattern=m.NAME_PATTERN, description="The channel's name.")


def read_channel(store: Any, name: str) -> Channel:
    found: Channel | None = store.read_channel(name)
    if found is None:
        raise ApiError("NOT_FOUND", f"There is no channel named {name!r}.")
    return found


@router.get("/channels", response_model=m.ChannelList)
def list_channels(store: Any = Depends(get_store)) -> dict[str, Any]:
    """List the channels, by name. Secrets show as ``••••`` or ``env:NAME``."""
    return {"items": [c.public() for c in store.list_channels()]}


@router.post("/channels", response_model=m.Channel, status_code=201, responses=responses(400, 409))
def create_channel(body: m.ChannelCreate, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Create a channel (or replace one, with ``replace``). Secret values are
    encrypted with the server's key before they are stored, and never returned."""
    secrets = {k: Secret.parse(v) for k, v in body.secrets.items()}
    channel = Channel.from_parts(body.name, body.type, body.config, secrets)
    with notify_errors():
        stored: Channel = store.create_channel(channel, replace=body.replace)
    return stored.public()


@router.get("/channels/{name}", response_model=m.Channel, responses=responses(404))
def get_channel(name: str = NAME, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Read one channel."""
    return read_channel(store, name).public()


@router.delete("/channels/{name}", status_code=204, responses=responses(404, 409))
def delete_channel(name: str = NAME, store: Any = Depends(get_store)) -> Response:
    """Delete a channel; refused (409) while automations notify it."""
    from cadenza.exceptions import InvalidNotificationConfig

    try:
        deleted = store.delete_channel(name)
    except InvalidNotificationConfig as exc:
        raise ApiError("CONFLICT", str(exc)) from None
    if not deleted:
        raise ApiError("NOT_FOUND", f"There is no channel named {name!r}.")
    return Response(status_code=204)


@router.post("/channels/{name}/send", response_model=m.Message, responses=responses(400, 404))
def send(body: m.SendRequest, name: str = NAME, store: Any = Depends(get_store)) -> dict[str, Any]:
    """Send a message through the channel now, in one attempt, and record it in the
    history (``cadenza channel test``, and the e-mail tasks of clients). The answer
    says whether it was sent (``status``) and why not (``last_error``)."""
    with notify_errors():
        message = store.send_message(name, body.subject, body.body, to=body.to, source=body.source)
    return message.public()
