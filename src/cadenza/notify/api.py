"""The Python API of notifications: channels, automations and the delivery history.

Every function works on the store of the current settings: the embedded database,
or the server of ``CADENZA_API_URL`` (through its REST API).

>>> from cadenza.notify import EmailChannel, create_channel, create_automation
>>> create_channel(EmailChannel("ops-email", host="smtp.example.com",
...     username="cadenza", password="env:SMTP_PASSWORD",
...     from_address="cadenza@example.com", to=["ops@example.com"]))
>>> create_automation("training-failures", states=["Failed", "Crashed", "Recovered"],
...     flows=["train"], channels=["ops-email"])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from cadenza.exceptions import ObjectNotFound
from cadenza.notify.automations import Automation, FlowRunStateTrigger

if TYPE_CHECKING:
    from cadenza.notify.channels import Channel
    from cadenza.notify.records import DeliveryAttempt, OutboxMessage
    from cadenza.store.notify_base import NotificationStore


def notification_store() -> NotificationStore:
    """The notification store of the current settings: a server's (when
    ``CADENZA_API_URL`` is set) or the embedded database's."""
    from cadenza.settings import get_settings

    settings = get_settings()
    if settings.api_url:
        from cadenza.client.http_notify import HttpNotificationStore

        return HttpNotificationStore(settings.api_url, settings.api_key)
    from cadenza.store import get_store
    from cadenza.store.notify_base import NotificationStore

    store = get_store()
    assert isinstance(store, NotificationStore)
    return store


def _changed() -> None:
    from cadenza.notify.runtime import forget_automations_cache

    forget_automations_cache()


# -- channels --------------------------------------------------------------------------
def create_channel(channel: Channel, *, replace: bool = False) -> Channel:
    """Store a channel (an :class:`EmailChannel` or :class:`WebhookChannel`).

    Raises:
        ObjectAlreadyExists: a channel has this name (pass ``replace=True``).
        SecretError: a secret value cannot be encrypted.
    """
    return notification_store().create_channel(channel, replace=replace)


def get_channel(name: str) -> Channel:
    """The channel of this name (its secrets masked).

    Raises:
        ObjectNotFound: there is none.
    """
    found = notification_store().read_channel(name)
    if found is None:
        raise ObjectNotFound(f"There is no channel named {name!r}.")
    return found


def list_channels() -> list[Channel]:
    """Every channel, by name."""
    return notification_store().list_channels()


def delete_channel(name: str) -> None:
    """Delete a channel.

    Raises:
        ObjectNotFound: there is none.
        InvalidNotificationConfig: automations notify it.
    """
    if not notification_store().delete_channel(name):
        raise ObjectNotFound(f"There is no channel named {name!r}.")


def send_test_message(
    name: str,
    *,
    subject: str = "cadenza test message",
    body: str = "This is a test message from cadenza: the channel works.",
) -> OutboxMessage:
    """Send a test message through a channel now; returns it with the outcome
    (``status`` ``sent``, or ``failed`` and ``last_error``)."""
    return notification_store().send_message(name, subject, body, source="test")


# -- automations -----------------------------------------------------------------------
def create_automation(
    name: str,
    *,
    states: Iterable[str] | str,
    channels: Sequence[str] | str,
    flows: Iterable[str] | str | None = None,
    deployments: Iterable[str] | str | None = None,
    tags: Iterable[str] | str | None = None,
    subject: str | None = None,
    body: str | None = None,
    enabled: bool = True,
    description: str | None = None,
    replace: bool = False,
) -> Automation:
    """Create an automation: when a flow run matching the filters enters one of
    ``states``, notify ``channels``.

    Args:
        name: its name.
        states: events to react to: ``Failed``, ``Crashed``, ``Completed``,
            ``Cancelled``, ``TimedOut``, ``Late``, ``Recovered``...
        channels: names of the channels to notify.
        flows, deployments, tags: only runs of these flows, of these deployments,
            having one of these tags (every run when left out).
        subject, body: templates (see :mod:`cadenza.notify.templates`).
        enabled: whether it acts at once.
        description: shown in listings.
        replace: replace an automation of the same name.

    Raises:
        InvalidNotificationConfig: an invalid value, an unknown channel, or a
            template that does not render.
        ObjectAlreadyExists: an automation has this name (pass ``replace=True``).
    """
    automation = Automation(
        name,
        FlowRunStateTrigger(states, flows=flows, deployments=deployments, tags=tags),
        channels,
        subject=subject,
        body=body,
        enabled=enabled,
        description=description,
    )
    stored = notification_store().create_automation(automation, replace=replace)
    _changed()
    return stored


def get_automation(name: str) -> Automation:
    """The automation of this name.

    Raises:
        ObjectNotFound: there is none.
    """
    found = notification_store().read_automation(name)
    if found is None:
        raise ObjectNotFound(f"There is no automation named {name!r}.")
    return found


def list_automations() -> list[Automation]:
    """Every automation, by name."""
    return notification_store().list_automations()


def _set_enabled(name: str, enabled: bool) -> None:
    if not notification_store().set_automation_enabled(name, enabled):
        raise ObjectNotFound(f"There is no automation named {name!r}.")
    _changed()


def enable_automation(name: str) -> None:
    """Enable an automation. Raises ObjectNotFound when there is none."""
    _set_enabled(name, True)


def disable_automation(name: str) -> None:
    """Disable an automation. Raises ObjectNotFound when there is none."""
    _set_enabled(name, False)


def delete_automation(name: str) -> None:
    """Delete an automation (its messages stay in the history).

    Raises:
        ObjectNotFound: there is none.
    """
    if not notification_store().delete_automation(name):
        raise ObjectNotFound(f"There is no automation named {name!r}.")
    _changed()


# -- history ---------------------------------------------------------------------------
def delivery_history(
    *,
    automation: str | None = None,
    channel: str | None = None,
    flow_run_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[OutboxMessage]:
    """The messages queued, newest first, with their status, attempts and last error."""
    return notification_store().list_messages(
        automation=automation,
        channel=channel,
        flow_run_id=flow_run_id,
        status=status,
        limit=limit,
    )


def delivery_attempts(message_id: str) -> list[DeliveryAttempt]:
    """Every attempt at delivering a message, oldest first."""
    return notification_store().list_attempts(message_id)
