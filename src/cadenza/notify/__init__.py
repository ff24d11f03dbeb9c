"""Notifications: channels (e-mail, webhooks), automations, hooks and tasks.

>>> from cadenza import flow
>>> from cadenza.notify import notify
>>> @flow(on_failure=[notify("ops-email")])
... def train(): ...

Importing this package is cheap: its names are loaded on first use, and SMTP,
HTTP, templates and encryption when a message is sent or a secret is stored.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadenza.notify.api import (
        create_automation,
        create_channel,
        delete_automation,
        delete_channel,
        delivery_attempts,
        delivery_history,
        disable_automation,
        enable_automation,
        get_automation,
        get_channel,
        list_automations,
        list_channels,
        send_test_message,
    )
    from cadenza.notify.automations import EVENTS, Automation, FlowRunStateTrigger
    from cadenza.notify.channels import Channel, EmailChannel, WebhookChannel
    from cadenza.notify.hooks import notify
    from cadenza.notify.records import DeliveryAttempt, OutboxMessage
    from cadenza.notify.runtime import flush
    from cadenza.notify.secrets import Secret
    from cadenza.notify.tasks import email_send_message, send_email

_MODULES = {
    "Automation": "cadenza.notify.automations",
    "Channel": "cadenza.notify.channels",
    "DeliveryAttempt": "cadenza.notify.records",
    "EVENTS": "cadenza.notify.automations",
    "EmailChannel": "cadenza.notify.channels",
    "FlowRunStateTrigger": "cadenza.notify.automations",
    "OutboxMessage": "cadenza.notify.records",
    "Secret": "cadenza.notify.secrets",
    "WebhookChannel": "cadenza.notify.channels",
    "create_automation": "cadenza.notify.api",
    "create_channel": "cadenza.notify.api",
    "delete_automation": "cadenza.notify.api",
    "delete_channel": "cadenza.notify.api",
    "delivery_attempts": "cadenza.notify.api",
    "delivery_history": "cadenza.notify.api",
    "disable_automation": "cadenza.notify.api",
    "email_send_message": "cadenza.notify.tasks",
    "enable_automation": "cadenza.notify.api",
    "flush": "cadenza.notify.runtime",
    "get_automation": "cadenza.notify.api",
    "get_channel": "cadenza.notify.api",
    "list_automations": "cadenza.notify.api",
    "list_channels": "cadenza.notify.api",
    "notify": "cadenza.notify.hooks",
    "send_email": "cadenza.notify.tasks",
    "send_test_message": "cadenza.notify.api",
}

__all__ = [
    "EVENTS",
    "Automation",
    "Channel",
    "DeliveryAttempt",
    "EmailChannel",
    "FlowRunStateTrigger",
    "OutboxMessage",
    "Secret",
    "WebhookChannel",
    "create_automation",
    "create_channel",
    "delete_automation",
    "delete_channel",
    "delivery_attempts",
    "delivery_history",
    "disable_automation",
    "email_send_message",
    "enable_automation",
    "flush",
    "get_automation",
    "get_channel",
    "list_automations",
    "list_channels",
    "notify",
    "send_email",
    "send_test_message",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'cadenza.notify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
