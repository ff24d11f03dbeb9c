"""Sending one message through one channel: SMTP with smtplib, webhooks with httpx.

:func:`send` raises :class:`~cadenza.exceptions.DeliveryError` with a message that
holds no secret (no password, no webhook URL): it goes to the delivery history and
to the log. ``permanent`` on the error says that sending again cannot help (the
receiver refused the message itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

from cadenza.exceptions import DeliveryError, SecretError
from cadenza.notify.channels import Channel, EmailChannel, WebhookChannel
from cadenza.notify.records import OutboxMessage
from cadenza.notify.secrets import MASK

SIGNATURE_HEADER = "X-Cadenza-Signature"
TIMESTAMP_HEADER = "X-Cadenza-Timestamp"
MESSAGE_ID_HEADER = "X-Cadenza-Message-Id"
EVENT_HEADER = "X-Cadenza-Event"
_MAX_ERROR = 500


class PermanentDeliveryError(DeliveryError):
    """The receiver refused the message itself: sending it again cannot help."""


def send(channel: Channel, message: OutboxMessage) -> None:
    """Deliver ``message`` through ``channel`` now.

    Raises:
        DeliveryError: it was not delivered (:class:`PermanentDeliveryError` when
            trying again cannot help); the message says why, without secrets.
    """
    try:
        if isinstance(channel, EmailChannel):
            to = message.context.get("to") or None
            send_email_message(channel, message.subject, message.body, to=to, message_id=message.id)
        elif isinstance(channel, WebhookChannel):
            post_webhook(channel, message)
        else:  # pragma: no cover - every channel type is handled above
            raise PermanentDeliveryError(f"Cannot send through a {channel.type} channel.")
    except SecretError as exc:
        raise DeliveryError(str(exc)) from None


# -- e-mail ----------------------------------------------------------------------------
def send_email_message(
    channel: EmailChannel,
    subject: str,
    body: str,
    *,
    to: list[str] | None = None,
    from_address: str | None = None,
    message_id: str | None = None,
) -> None:
    """Send one e-mail through ``channel`` (to its recipients, or ``to``).

    Raises:
        DeliveryError: the server could not be reached or refused the message.
        SecretError: the password cannot be read.
    """
    import smtplib
    import ssl
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = from_address or channel.from_address
    recipients = list(to or channel.to)
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{message_id}@cadenza>" if message_id else make_msgid("cadenza")
    msg.set_content(body)
    password = channel.password.reveal("SMTP password") if channel.password else None
    where = f"the SMTP server {channel.host}:{channel.port}"
    try:
        smtp: smtplib.SMTP
        if channel.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                channel.host,
                channel.port,
                timeout=channel.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
        with smtp:
            if channel.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if channel.username and password is not None:
                smtp.login(channel.username, password)
            smtp.send_message(msg, to_addrs=recipients)
    except smtplib.SMTPResponseException as exc:
        text = _text(exc.smtp_error)
        error = f"{where} refused the message ({exc.smtp_code} {text})"
        if exc.smtp_code >= 500:
            raise PermanentDeliveryError(error) from None
        raise DeliveryError(error) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise PermanentDeliveryError(f"{where} refused the recipients {refused}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"could not send through {where}: {_describe(exc)}") from None


# -- webhooks --------------------------------------------------------------------------
def webhook_payload(format: str, message: OutboxMessage) -> dict[str, Any]:
    """The JSON body posted for ``message`` in ``format`` (json, slack or teams)."""
    ctx = message.context
    url = ctx.get("run_url")
    if format == "slack":
        text = f"*{message.subject}*\n{message.body}"
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": message.body[:2900]}},
        ]
        if url:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Open the run"},
                            "url": url,
                        }
                    ],
                }
            )
        return {"text": text, "blocks": blocks}
    if format == "teams":
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": message.subject,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                },
                {"type": "TextBlock", "text": message.body, "wrap": True},
            ],
        }
        if url:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the run", "url": url}]
        return {
            "type": "message",
            "summary": message.subject,
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }
    return {
        "id": message.id,
        "event": message.event,
        "subject": message.subject,
        "body": message.body,
        "flow": ctx.get("flow"),
        "flow_run": ctx.get("run"),
        "task_run": ctx.get("task_run"),
        "state": ctx.get("state"),
        "run_url": url,
        "automation": message.automation_name,
    }


def sign(key: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the HMAC of ``<timestamp>.<body>``."""
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def post_webhook(channel: WebhookChannel, message: OutboxMessage) -> None:
    """POST ``message`` to the channel's URL.

    Raises:
        DeliveryError: no 2xx answer (:class:`PermanentDeliveryError` for a 4xx
            other than 408 and 429).
        SecretError: the URL or the signing key cannot be read.
    """
    import httpx

    from cadenza import __version__

    url = channel.url.reveal("webhook URL")
    _redact_in_logs(url)
    body = json.dumps(webhook_payload(channel.format, message), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"cadenza/{__version__}",
        MESSAGE_ID_HEADER: message.id,
        EVENT_HEADER: message.event,
    }
    if channel.signing_secret is not None:
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = sign(
            channel.signing_secret.reveal("signing secret"), timestamp, body
        )
    try:
        response = httpx.post(
            url, content=body, headers=headers, timeout=channel.timeout, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"could not reach the webhook: {_scrub(_describe(exc), url)}") from None
    status = response.status_code
    if 200 <= status < 300:
        return
    text = _scrub(_text(response.text), url)
    error = f"the webhook answered {status}" + (f": {text}" if text else "")
    if 400 <= status < 500 and status not in (408, 429):
        raise PermanentDeliveryError(error)
    raise DeliveryError(error)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = " ".join(str(value).split())
    return text[:_MAX_ERROR] + ("…" if len(text) > _MAX_ERROR else "")


def _scrub(text: str, secret: str) -> str:
    """``text`` without the secret (a URL some errors repeat)."""
    return text.replace(secret, MASK) if secret else text


class _Redactor(logging.Filter):
    """Masks webhook URLs in the log lines of httpx (which logs each request's URL
    at INFO): a URL can hold a token (Slack's and Teams' do)."""

    def __init__(self) -> None:
        super().__init__("cadenza-webhooks")
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for s in self.secrets:
                text = text.replace(s, MASK)
            record.msg, record.args = text, ()
        return True


_redactor = _Redactor()


def _redact_in_logs(url: str) -> None:
    if url in _redactor.secrets:
        return
    if not _redactor.secrets:
        logging.getLogger("httpx").addFilter(_redactor)
    _redactor.secrets.add(url)
