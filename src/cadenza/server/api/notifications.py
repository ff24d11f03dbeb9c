"""``/api/notifications``: the outbox and its delivery history; hooks' requests."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.notify.records import RunNotification
from cadenza.server.api import notify_models as m
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, invalid, responses
from cadenza.server.api.notify_models import notify_errors
from cadenza.server.api.params import MAX_PAGE, cursor_param
from cadenza.states import State

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=m.MessagePage, responses=responses(400))
def list_notifications(
    automation: str | None = Query(None, description="Only messages of this automation."),
    channel: str | None = Query(None, description="Only messages to this channel."),
    flow_run_id: str | None = Query(None, description="Only messages about this flow run."),
    status: Literal["pending", "sent", "failed"] | None = Query(None),
    limit: int = Query(50, ge=1, le=MAX_PAGE, description=f"At most {MAX_PAGE}."),
    cursor: str | None = Depends(cursor_param),
    store: Any = Depends(get_store),
) -> dict[str, Any]:
    """The messages queued, newest first: what was sent, what is waiting for a retry
    (``pending``, with ``next_attempt_at``) and what failed for good, with the last
    error. Pass ``next_cursor`` as ``cursor`` for the next page."""
    found = store.list_messages(
        automation=automation,
        channel=channel,
        flow_run_id=flow_run_id,
        status=status,
        limit=limit + 1,
        before_id=cursor,
    )
    page = found[:limit]
    return {
        "items": [x.public() for x in page],
        "next_cursor": page[-1].id if len(found) > limit else None,
    }


@router.get("/notifications/{message_id}", response_model=m.MessageDetail, responses=responses(404))
def get_notification(message_id: str, store: Any = Depends(get_store)) -> dict[str, Any]:
    """One message with every attempt at delivering it."""
    found = store.read_message(message_id)
    if found is None:
        raise ApiError("NOT_FOUND", f"There is no notification with id {message_id!r}.")
    return {
        **found.public(),
        "attempts_history": [a.public() for a in store.list_attempts(message_id)],
    }


@router.post("/notifications", response_model=m.Queued, responses=responses(400))
def queue_notification(body: m.RunNotificationRequest, store: Any = Depends(get_store)) -> Response:
    """Queue what a ``notify(...)`` hook of a client asks for: the message is rendered
    from the run as this server recorded it. Asking twice for one transition queues
    one message (``queued`` false the second time)."""
    try:
        state = State.from_dict(body.state)
    except (KeyError, ValueError, TypeError):
        raise invalid("state", "a state as in a run's history: type, name, timestamp") from None
    request = RunNotification(
        channel=body.channel,
        flow_run_id=body.flow_run_id,
        state=state,
        flow_name=body.flow_name,
        run_name=body.run_name,
        subject=body.subject,
        body=body.body,
        source=body.source,
        task_run=body.task_run,
    )
    with notify_errors():
        message_id = store.notify_run(request)
    _wake_sender(store)
    status = 201 if message_id else 200
    return Response(
        m.Queued(id=message_id, queued=message_id is not None).model_dump_json(),
        status_code=status,
        media_type="application/json",
    )


def _wake_sender(store: Any) -> None:
    from cadenza.server.services.automations import wake_delivery

    wake_delivery(store)
