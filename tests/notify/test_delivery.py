"""Delivery through each kind of channel, against real receivers: the webhook
formats and signature, e-mail with a login and over TLS, the e-mail tasks, and the
retry policy."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
from pathlib import Path
from typing import Any

import pytest
from tests.notify.conftest import Receiver, SmtpServer

from cadenza import flow
from cadenza.exceptions import DeliveryError, InvalidNotificationConfig
from cadenza.notify import (
    EmailChannel,
    WebhookChannel,
    create_automation,
    create_channel,
    delivery_history,
    email_send_message,
    flush,
    send_email,
    send_test_message,
)
from cadenza.notify.delivery import Sender, backoff
from cadenza.notify.records import OutboxMessage
from cadenza.store.sql import SqlStore


def _fail_flow() -> None:
    @flow(name="train")
    def train() -> None:
        raise ValueError("rmse 3.2 above threshold")

    train(return_state=True)
    assert flush(20)


@pytest.mark.parametrize("fmt", ["json", "slack", "teams"])
def test_webhook_payloads_and_signature(
    receiver: Receiver, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CADENZA_UI_URL", "https://cadenza.example.com/")
    from cadenza.settings import reset_settings

    reset_settings()
    create_channel(WebhookChannel("hook", url=receiver.url, format=fmt, signing_secret="k3y"))
    create_automation("alerts", states="Failed", channels="hook")
    _fail_flow()
    (request,) = receiver.delivered()
    headers, body, payload = request["headers"], request["body"], request["json"]
    # The signature is the HMAC-SHA256 of "<timestamp>.<body>" under the signing key.
    expected = hmac.new(
        b"k3y", headers["x-cadenza-timestamp"].encode() + b"." + body, hashlib.sha256
    )
    assert headers["x-cadenza-signature"] == "sha256=" + expected.hexdigest()
    assert headers["content-type"] == "application/json"
    (message,) = delivery_history()
    assert headers["x-cadenza-message-id"] == message.id
    run_url = f"https://cadenza.example.com/runs/{message.flow_run_id}"
    if fmt == "json":
        assert payload["event"] == "Failed"
        assert payload["flow"] == {"name": "train"}
        assert payload["state"]["type"] == "FAILED"
        assert payload["state"]["message"] == "ValueError: rmse 3.2 above threshold"
        assert payload["flow_run"]["id"] == message.flow_run_id
        assert payload["run_url"] == run_url
        assert payload["automation"] == "alerts"
        assert run_url in payload["body"]
    elif fmt == "slack":
        assert payload["text"].startswith(f"*{message.subject}*\n")
        header, section, actions = payload["blocks"]
        assert header == {"type": "header", "text": {"type": "plain_text", "text": message.subject}}
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
        assert "ValueError: rmse 3.2 above threshold" in section["text"]["text"]
        assert actions["elements"][0]["url"] == run_url
    else:
        assert payload["type"] == "message"
        (attachment,) = payload["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard"
        assert card["body"][0]["text"] == message.subject
        assert "ValueError: rmse 3.2 above threshold" in card["body"][1]["text"]
        assert card["actions"] == [
            {"type": "Action.OpenUrl", "title": "Open the run", "url": run_url}
        ]


def test_a_refused_message_fails_at_once(receiver: Receiver) -> None:
    receiver.fail_first, receiver.fail_status = 1000, 400
    create_channel(WebhookChannel("hook", url=receiver.url))
    create_automation("alerts", states="Failed", channels="hook")
    _fail_flow()
    (message,) = delivery_history()
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == "the webhook answered 400: ok"


def test_attempts_stop_after_the_maximum(store: SqlStore, receiver: Receiver) -> None:
    receiver.fail_first = 1000
    store.create_channel(WebhookChannel("hook", url=receiver.url))
    now = [1000.0]
    sender = Sender(store, retry_delay=10, max_delay=25, max_attempts=3, clock=lambda: now[0])
    store.enqueue([_message("m1", now[0])])
    assert sender.deliver_due() == 1
    (m,) = store.list_messages()
    assert (m.status, m.attempts) == ("pending", 1)
    assert 1009 <= m.next_attempt_at <= 1011  # 10 s, with jitter
    assert sender.deliver_due() == 0  # not due yet
    now[0] = m.next_attempt_at
    assert sender.deliver_due() == 1
    (m,) = store.list_messages()
    assert 18 <= m.next_attempt_at - now[0] <= 22  # doubled
    now[0] = m.next_attempt_at
    assert sender.deliver_due() == 1
    (m,) = store.list_messages()
    assert (m.status, m.attempts) == ("failed", 3)
    assert len(receiver.requests) == 3
    # Doubling from the first delay, capped, with 10 % of jitter either way.
    for attempt, plain in ((1, 10), (2, 20), (3, 25), (9, 25)):
        assert 0.9 * plain <= backoff(attempt, 10, 25) <= 1.1 * plain


def _message(message_id: str, now: float) -> OutboxMessage:
    return OutboxMessage(
        id=message_id,
        dedup_key=f"test:{message_id}",
        channel="hook",
        subject="s",
        body="b",
        event="Failed",
        source="test",
        created=now,
        next_attempt_at=now,
    )


def test_email_with_a_login_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    smtp = SmtpServer(username="cadenza", password="pa55-word").start()
    try:
        monkeypatch.setenv("SMTP_PASSWORD", "pa55-word")
        create_channel(
            EmailChannel(
                "ops",
                host="127.0.0.1",
                port=smtp.port,
                security="none",
                username="cadenza",
                password="env:SMTP_PASSWORD",
                from_address="cadenza@example.com",
                to="ops@example.com",
                timeout=3,
            )
        )
        assert send_test_message("ops").status == "sent"
        assert smtp.mailbox.logins == [("cadenza", "pa55-word")]
        monkeypatch.setenv("SMTP_PASSWORD", "wrong")
        failed = send_test_message("ops")
        assert failed.status == "failed"
        assert "SMTP server 127.0.0.1" in (failed.last_error or "")
        assert "wrong" not in (failed.last_error or "")
        assert smtp.mailbox.logins[1] == ("cadenza", "wrong")
        monkeypatch.delenv("SMTP_PASSWORD")
        unset = send_test_message("ops")
        assert "environment variable SMTP_PASSWORD, which is not set" in (unset.last_error or "")
    finally:
        smtp.stop()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str) -> None:
    from aiosmtpd.controller import Controller
    from tests.notify.conftest import Mailbox, free_port

    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), free_port()
    if security == "ssl":
        controller: Any = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(
            mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
        )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's certificate
    controller.start()
    try:
        channel = EmailChannel(
            "tls",
            host="127.0.0.1",
            port=port,
            security=security,
            from_address="cadenza@example.com",
            to="ops@example.com",
        )

        @flow
        def mailer() -> dict[str, Any]:
            return email_send_message(subject="over TLS", msg="encrypted", channel=channel)

        assert mailer()["status"] == "sent"
        assert [m["Subject"] for m in mailbox.messages] == ["over TLS"]
    finally:
        controller.stop()


def test_email_tasks_with_a_stored_channel(smtp: SmtpServer) -> None:
    create_channel(
        EmailChannel(
            "ops",
            host="127.0.0.1",
            port=smtp.port,
            security="none",
            from_address="cadenza@example.com",
            to="ops@example.com",
        )
    )

    @flow
    def weekly() -> list[Any]:
        first = email_send_message("Weekly report", "All good.", channel="ops")
        second = send_email(["cto@example.com"], "Summary", "Numbers inside.", channel="ops")
        return [first, second]

    first, second = weekly()
    assert first["status"] == second["status"] == "sent"
    assert [m["Subject"] for m in smtp.mailbox.messages] == ["Weekly report", "Summary"]
    assert smtp.mailbox.envelopes[1].rcpt_tos == ["cto@example.com"]
    assert [m.source for m in delivery_history()] == ["task", "task"]


def test_an_email_task_that_cannot_send_fails_its_run() -> None:
    channel = EmailChannel(
        "nowhere",
        host="127.0.0.1",
        port=9,
        security="none",
        from_address="cadenza@example.com",
        to="ops@example.com",
        timeout=5,
    )

    @flow
    def mailer() -> None:
        email_send_message.with_options(retries=0)("s", "b", channel=channel)

    state = mailer(return_state=True)
    assert state.is_failed()
    assert "could not send through the SMTP server 127.0.0.1:9" in (state.message or "")
    with pytest.raises(DeliveryError):
        state.result()


def test_channels_refuse_bad_values() -> None:
    with pytest.raises(InvalidNotificationConfig, match="security must be one of starttls"):
        EmailChannel("x", host="h", from_address="a@b.c", to="d@e.f", security="tls")
    with pytest.raises(InvalidNotificationConfig, match="to must be an e-mail address"):
        EmailChannel("x", host="h", from_address="a@b.c", to="not-an-address")
    with pytest.raises(InvalidNotificationConfig, match="password was given without a username"):
        EmailChannel("x", host="h", from_address="a@b.c", to="d@e.f", password="p")
    with pytest.raises(InvalidNotificationConfig, match="url must be an http:// or https:// URL"):
        WebhookChannel("x", url="ftp://example.com")
    with pytest.raises(InvalidNotificationConfig, match="format must be one of json, slack"):
        WebhookChannel("x", url="https://example.com", format="discord")
    with pytest.raises(InvalidNotificationConfig, match="not an environment variable name"):
        WebhookChannel("x", url="env:not a name")
    assert EmailChannel("x", host="h", from_address="a@b.c", to="d@e.f", security="ssl").port == 465
    assert json.dumps(WebhookChannel("x", url="env:HOOK").public())  # JSON all through
