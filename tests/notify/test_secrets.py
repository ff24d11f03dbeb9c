"""Secrets: encrypted at rest or read from the environment, and never shown back by
the API, the UI, the command line or the logs."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.notify.conftest import NotifyServer, Receiver

from cadenza.cli.main import cli
from cadenza.exceptions import SecretError
from cadenza.notify import EmailChannel, Secret, WebhookChannel, create_channel, get_channel
from cadenza.notify.secrets import reset_ciphers
from cadenza.settings import reset_settings

PASSWORD = "pw-7f3a9c2e-never-show"
URL_TOKEN = "T000/B000/tok-5b1d8e"
SIGNING = "sig-2c4e6a8b-never-show"


def _channels(receiver_url: str = "https://hooks.example.com/") -> None:
    create_channel(
        EmailChannel(
            "ops-email",
            host="smtp.example.com",
            username="cadenza",
            password=PASSWORD,
            from_address="cadenza@example.com",
            to="ops@example.com",
        )
    )
    create_channel(
        WebhookChannel(
            "slack", url=receiver_url + URL_TOKEN, format="slack", signing_secret=SIGNING
        )
    )


def _secret_in(text: str) -> list[str]:
    return [s for s in (PASSWORD, URL_TOKEN, SIGNING) if s in text]


def test_values_are_encrypted_at_rest_with_a_private_key_file(cadenza_home: Path) -> None:
    _channels()
    db = sqlite3.connect(cadenza_home / "cadenza.db")
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert _secret_in(dump) == []
    assert "fernet:" in dump
    key_file = cadenza_home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    found = get_channel("ops-email")
    assert isinstance(found, EmailChannel) and found.password is not None
    assert found.password.reveal() == PASSWORD  # decrypted only to send
    assert repr(found.password) == "Secret(••••)" and str(found.password) == "••••"
    assert _secret_in(repr(found)) == []


def test_a_wrong_key_and_a_bad_key_say_what_to_do(
    cadenza_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _channels()
    from cryptography.fernet import Fernet

    monkeypatch.setenv("CADENZA_SECRET_KEY", Fernet.generate_key().decode())
    reset_settings()
    reset_ciphers()
    found = get_channel("ops-email")
    assert isinstance(found, EmailChannel) and found.password is not None
    with pytest.raises(SecretError, match=r"encrypted with another key.*CADENZA_SECRET_KEY"):
        found.password.reveal("SMTP password")
    monkeypatch.setenv("CADENZA_SECRET_KEY", "not-a-key")
    reset_settings()
    with pytest.raises(SecretError, match="is not a Fernet key"):
        Secret.value("x").to_stored()


def test_environment_references_are_stored_as_names(
    cadenza_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_URL", "https://hooks.example.com/" + URL_TOKEN)
    create_channel(WebhookChannel("slack", url="env:SLACK_URL"))
    db = sqlite3.connect(cadenza_home / "cadenza.db")
    try:
        (secrets,) = db.execute("SELECT secrets FROM notification_channels").fetchone()
    finally:
        db.close()
    assert secrets == '{"url": "env:SLACK_URL"}'
    assert get_channel("slack").public()["secrets"]["url"]["display"] == "env:SLACK_URL"
    assert not (cadenza_home / "secret.key").exists()  # no value, no key needed


def test_the_api_the_ui_and_the_cli_never_show_a_secret(
    make_server: Callable[..., NotifyServer],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = make_server()
    with server.client() as client:
        created = client.post(
            "/channels",
            json={
                "name": "ops-email",
                "type": "email",
                "config": {
                    "host": "smtp.example.com",
                    "username": "cadenza",
                    "from_address": "cadenza@example.com",
                    "to": ["ops@example.com"],
                },
                "secrets": {"password": PASSWORD},
            },
        )
        assert created.status_code == 201
        hook = client.post(
            "/channels",
            json={
                "name": "slack",
                "type": "webhook",
                "config": {"format": "slack"},
                "secrets": {"url": f"{receiver.url}/{URL_TOKEN}", "signing_secret": SIGNING},
            },
        )
        assert hook.status_code == 201
        client.post(
            "/automations",
            json={"name": "all", "trigger": {"states": ["Completed"]}, "channels": ["slack"]},
        )
        with caplog.at_level(logging.DEBUG):
            sent = client.post("/channels/slack/send", json={})
            assert sent.json()["status"] == "sent"
        answers = [created.text, hook.text, sent.text]
        for path in (
            "/channels",
            "/channels/slack",
            "/channels/ops-email",
            "/automations",
            "/notifications",
            "/openapi.json",
        ):
            answers.append(client.get(path).text)
    pages = []
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        for path in ("/channels", "/automations", "/notifications", "/automations/new"):
            page = browser.get(path)
            assert page.status_code == 200, path
            pages.append(page.text)
    assert "••••" in pages[0]
    monkeypatch.setenv("CADENZA_API_URL", server.url)
    reset_settings()
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, args).output
        for args in (
            ["channel", "ls"],
            ["channel", "ls", "--json"],
            ["channel", "inspect", "slack"],
            ["channel", "inspect", "ops-email", "--json"],
        )
    ]
    assert "••••" in outputs[2]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in [*answers, *pages, *outputs, logged]:
        assert _secret_in(text) == []
    assert os.environ.get("CADENZA_SECRET_KEY") is None
