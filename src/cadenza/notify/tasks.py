"""Sending e-mail from a flow, as tasks: ``email_send_message`` (Prefect's name, from
prefect-email) and ``send_email``.

>>> from cadenza.notify import email_send_message
>>> @flow
... def report():
...     email_send_message(subject="Weekly report", msg="All good.", channel="ops-email")

The channel is the name of a stored e-mail channel, or an
:class:`~cadenza.notify.channels.EmailChannel` built in the code. A stored channel's
message is sent by the process that holds the channel (the embedded database's, or
the server) and recorded in the delivery history. The tasks retry twice by default;
a message that cannot be sent fails the task run with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cadenza.exceptions import DeliveryError, InvalidNotificationConfig
from cadenza.notify.channels import EmailChannel
from cadenza.tasks import task


def _recipients(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [v for v in value if v]


def _send(
    channel: str | EmailChannel,
    subject: str,
    body: str,
    to: list[str] | None,
    from_address: str | None,
) -> dict[str, Any]:
    if isinstance(channel, EmailChannel):
        from cadenza.notify.transport import send_email_message

        send_email_message(channel, subject, body, to=to, from_address=from_address)
        return {"channel": channel.name, "status": "sent", "to": to or list(channel.to)}
    if not isinstance(channel, str):
        raise InvalidNotificationConfig(
            f"channel must be the name of an e-mail channel or an EmailChannel, got {channel!r}."
        )
    if from_address is not None:
        raise InvalidNotificationConfig(
            "email_from can be given only with an EmailChannel built in the code; a stored "
            "channel sends from its own address."
        )
    from cadenza.notify.api import notification_store

    sent = notification_store().send_message(channel, subject, body, to=to, source="task")
    if sent.status != "sent":
        raise DeliveryError(f"The e-mail to channel {channel!r} was not sent: {sent.last_error}")
    return {"channel": channel, "status": "sent", "message_id": sent.id, "to": to}


@task(name="email_send_message", retries=2, retry_delay_seconds=10)
def email_send_message(
    subject: str,
    msg: str,
    channel: str | EmailChannel,
    email_to: str | Sequence[str] | None = None,
    email_from: str | None = None,
) -> dict[str, Any]:
    """Send an e-mail through a channel.

    Args:
        subject: the subject.
        msg: the body (plain text).
        channel: the name of a stored e-mail channel, or an ``EmailChannel``.
        email_to: recipients instead of the channel's (a list, or separated by commas).
        email_from: the sender instead of the channel's (``EmailChannel`` only).

    Returns:
        ``{"channel", "status": "sent", "to", "message_id"}``.

    Raises:
        DeliveryError: the message was not sent (the task is retried).
    """
    return _send(channel, subject, msg, _recipients(email_to), email_from)


@task(name="send_email", retries=2, retry_delay_seconds=10)
def send_email(
    to: str | Sequence[str] | None,
    subject: str,
    body: str,
    channel: str | EmailChannel,
) -> dict[str, Any]:
    """Send an e-mail through a channel, to ``to`` (None: the channel's recipients).

    Same as :func:`email_send_message`, with the recipients first.
    """
    return _send(channel, subject, body, _recipients(to), None)
