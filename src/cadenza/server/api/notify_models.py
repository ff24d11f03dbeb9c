"""The JSON of the notification routes: channels, automations and the outbox.

Secrets go one way: a request may carry a secret's value (or ``env:NAME``); a
response only says whether it is a value (``display`` ``••••``) or which variable
it is read from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from cadenza.exceptions import ObjectAlreadyExists, SecretError
from cadenza.server.api.errors import ApiError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class SecretInfo(BaseModel):
    """What is said about a secret: never its value."""

    kind: Literal["env", "value"]
    env: str | None
    """The environment variable it is read from, for ``env``."""
    display: str
    """``env:NAME`` or ``••••``."""


class Channel(BaseModel):
    id: str | None
    name: str
    type: Literal["email", "webhook"]
    config: dict[str, Any]
    """The settings that are not secret."""
    secrets: dict[str, SecretInfo]
    summary: str
    created: float | None


class ChannelList(BaseModel):
    items: list[Channel]


class ChannelCreate(BaseModel):
    """A new channel. E-mail: ``config`` has host, port, security (starttls, ssl,
    none), username, from_address, to, timeout; ``secrets`` may have password.
    Webhook: ``config`` has format (json, slack, teams) and timeout; ``secrets`` has
    url and may have signing_secret. A secret is its value (stored encrypted) or
    ``env:NAME`` (read from the server's environment when sending)."""

    name: str = Field(pattern=NAME_PATTERN)
    type: Literal["email", "webhook"]
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    replace: bool = False
    """Replace a channel of the same name."""


class SendRequest(BaseModel):
    subject: str = Field("cadenza test message", max_length=300)
    body: str = Field("This is a test message from cadenza: the channel works.", max_length=20_000)
    to: list[str] | None = None
    """Recipients instead of an e-mail channel's own."""
    source: Literal["test", "task"] = "test"


class Trigger(BaseModel):
    """``flow-run-state``: when a run enters one of ``states``; ``not-completed``: when
    a scheduled run has not completed ``within`` seconds of its scheduled time."""

    type: Literal["flow-run-state", "not-completed"] = "flow-run-state"
    states: list[str] = Field(default_factory=list)
    """Events: Completed, Failed, TimedOut, Crashed, Cancelled, Late, Recovered..."""
    within: float | None = None
    """Seconds, for ``not-completed``."""
    flows: list[str] = Field(default_factory=list)
    deployments: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Automation(BaseModel):
    id: str | None
    name: str
    description: str | None
    enabled: bool
    trigger: Trigger
    channels: list[str]
    subject: str | None
    body: str | None
    created: float | None
    summary: str


class AutomationList(BaseModel):
    items: list[Automation]


class AutomationCreate(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    trigger: Trigger
    channels: list[str]
    subject: str | None = None
    body: str | None = None
    enabled: bool = True
    description: str | None = None
    replace: bool = False


class Message(BaseModel):
    """A message of the outbox: its text, where it goes, and how delivery went."""

    id: str
    channel: str
    subject: str
    body: str
    event: str
    source: str
    flow_run_id: str | None
    automation_id: str | None
    automation_name: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    created: float
    next_attempt_at: float | None
    sent_at: float | None
    last_error: str | None


class Attempt(BaseModel):
    id: int | None
    message_id: str
    attempt: int
    timestamp: float
    ok: bool
    error: str | None
    duration: float | None


class MessageDetail(Message):
    attempts_history: list[Attempt]


class MessagePage(BaseModel):
    items: list[Message]
    next_cursor: str | None


class RunNotificationRequest(BaseModel):
    """What a ``notify(...)`` hook asks for (clients reporting to this server)."""

    channel: str = Field(pattern=NAME_PATTERN)
    flow_run_id: str
    flow_name: str
    run_name: str
    state: dict[str, Any]
    """The state entered, as in a run's history (type, name, timestamp, message...)."""
    subject: str | None = None
    body: str | None = None
    source: Literal["hook"] = "hook"
    task_run: dict[str, Any] | None = None


class Queued(BaseModel):
    id: str | None
    """The message's id; null when this transition was notified to this channel already."""
    queued: bool


@contextlib.contextmanager
def notify_errors() -> Iterator[None]:
    """Turn the notification errors the API answers with a specific code."""
    try:
        yield
    except ObjectAlreadyExists as exc:
        raise ApiError("CONFLICT", str(exc)) from None
    except SecretError as exc:
        raise ApiError("INVALID_STATE", str(exc)) from None
