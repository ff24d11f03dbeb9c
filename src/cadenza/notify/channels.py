"""Notification channels: where messages go, configured once and named.

Two kinds: :class:`EmailChannel` (SMTP, with STARTTLS, SSL or neither, and a login)
and :class:`WebhookChannel` (an HTTP POST of JSON: cadenza's own payload, a
Slack-compatible one or a Microsoft Teams-compatible one, optionally signed with
HMAC-SHA256). Both validate their values when built, with errors that say what is
allowed. Their secrets (the SMTP password, the webhook URL, the signing key) are
:class:`~cadenza.notify.secrets.Secret` objects, stored encrypted or read from the
environment, and never part of :meth:`Channel.config`.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from cadenza.exceptions import InvalidNotificationConfig
from cadenza.notify.secrets import Secret

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
NAME_HELP = "1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
EMAIL_SECURITY = ("starttls", "ssl", "none")
WEBHOOK_FORMATS = ("json", "slack", "teams")
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


def check_name(kind: str, name: Any) -> str:
    """``name`` if it is a valid name of a channel or automation, else a clear error."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidNotificationConfig(f"{name!r} is not a valid {kind} name: use {NAME_HELP}.")
    return name


def _positive(owner: str, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidNotificationConfig(
            f"{owner}: {field} must be a positive number of seconds, got {value!r}."
        )
    return float(value)


class Channel(abc.ABC):
    """A named destination of notifications."""

    type: ClassVar[str]
    secret_fields: ClassVar[tuple[str, ...]]

    def __init__(self, name: str) -> None:
        self.name = check_name("channel", name)
        self.id: str | None = None
        """Set when the channel is stored."""
        self.created: float | None = None

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """The settings that are not secret, as JSON values."""

    @abc.abstractmethod
    def secrets(self) -> dict[str, Secret]:
        """The secret settings that are set, by field name."""

    @abc.abstractmethod
    def summary(self) -> str:
        """One line saying where messages go, without secrets."""

    def public(self) -> dict[str, Any]:
        """Everything about the channel that may be shown: no secret value."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "config": self.config(),
            "secrets": {k: v.public() for k, v in self.secrets().items()},
            "summary": self.summary(),
            "created": self.created,
        }

    @staticmethod
    def from_parts(
        name: str, type: str, config: Mapping[str, Any], secrets: Mapping[str, Secret]
    ) -> Channel:
        """Rebuild a channel from its type, settings and secrets (as stored).

        Raises:
            InvalidNotificationConfig: an unknown type or an invalid setting.
        """
        cls = CHANNEL_TYPES.get(type)
        if cls is None:
            raise InvalidNotificationConfig(
                f"Unknown channel type {type!r}; the types are {', '.join(CHANNEL_TYPES)}."
            )
        unknown = (set(config) | set(secrets)) - set(cls.fields())
        if unknown:
            raise InvalidNotificationConfig(
                f"A {type} channel has no setting {sorted(unknown)[0]!r}; its settings are "
                f"{', '.join(cls.fields())}."
            )
        return cls(name, **{**config, **secrets})

    @classmethod
    @abc.abstractmethod
    def fields(cls) -> tuple[str, ...]:
        """The names of the keyword arguments of the channel's constructor."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.summary()})"


class EmailChannel(Channel):
    """E-mail over SMTP.

    Args:
        name: the channel's name, used by automations and ``notify(name)``.
        host: the SMTP server.
        port: its port; by default 587 with STARTTLS, 465 with SSL, 25 without.
        security: ``"starttls"`` (upgrade a plain connection, the default), ``"ssl"``
            (TLS from the start) or ``"none"``.
        username: the login, if the server needs one.
        password: its password: ``"env:SMTP_PASSWORD"`` to read it from the
            environment when sending, or the value (stored encrypted).
        from_address: the sender's address.
        to: the recipients (a list, or addresses separated by commas).
        timeout: seconds to wait for the server.
    """

    type = "email"
    secret_fields = ("password",)

    def __init__(
        self,
        name: str,
        *,
        host: str,
        from_address: str,
        to: Iterable[str] | str,
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | Secret | None = None,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(name)
        owner = f"email channel {name!r}"
        if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host.strip()):
            raise InvalidNotificationConfig(f"{owner}: host must be the SMTP server's name.")
        self.host = host.strip()
        if security not in EMAIL_SECURITY:
            raise InvalidNotificationConfig(
                f"{owner}: security must be one of {', '.join(EMAIL_SECURITY)}, got {security!r}."
            )
        self.security = security
        if port is None:
            port = _DEFAULT_PORTS[security]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidNotificationConfig(
                f"{owner}: port must be a number from 1 to 65535, got {port!r}."
            )
        self.port = port
        self.from_address = _address(owner, "from_address", from_address)
        recipients = [t.strip() for t in to.split(",")] if isinstance(to, str) else list(to)
        recipients = [r for r in recipients if r]
        if not recipients:
            raise InvalidNotificationConfig(f"{owner}: give at least one recipient in 'to'.")
        self.to = [_address(owner, "to", r) for r in recipients]
        self.username = username or None
        self.password = None if password is None else Secret.parse(password)
        if self.password is not None and self.username is None:
            raise InvalidNotificationConfig(
                f"{owner}: a password was given without a username; give both or neither."
            )
        self.timeout = _positive(owner, "timeout", timeout)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return (
            "host",
            "port",
            "security",
            "username",
            "password",
            "from_address",
            "to",
            "timeout",
        )

    def config(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "username": self.username,
            "from_address": self.from_address,
            "to": list(self.to),
            "timeout": self.timeout,
        }

    def secrets(self) -> dict[str, Secret]:
        return {"password": self.password} if self.password is not None else {}

    def summary(self) -> str:
        login = f" as {self.username}" if self.username else ""
        return f"smtp {self.host}:{self.port} ({self.security}){login} to {', '.join(self.to)}"


class WebhookChannel(Channel):
    """An HTTP POST of a JSON message.

    Args:
        name: the channel's name.
        url: where to post: ``"env:WEBHOOK_URL"`` or the URL itself (stored
            encrypted, since Slack's and Teams' URLs hold their token).
        format: ``"json"`` (cadenza's payload: subject, body, event, flow, run,
            state, link), ``"slack"`` (an incoming-webhook message) or ``"teams"``
            (an Adaptive Card message, as Teams workflows take).
        signing_secret: a key to sign each request with HMAC-SHA256: the header
            ``X-Cadenza-Signature: sha256=<hex>`` is the HMAC of
            ``<X-Cadenza-Timestamp>.<body>``.
        timeout: seconds to wait for the receiver.
    """

    type = "webhook"
    secret_fields = ("url", "signing_secret")

    def __init__(
        self,
        name: str,
        *,
        url: str | Secret,
        format: str = "json",
        signing_secret: str | Secret | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(name)
        owner = f"webhook channel {name!r}"
        self.url = Secret.parse(url)
        if self.url.given_value is not None:  # stored URLs were checked when given
            try:
                check_url(self.url.given_value)
            except InvalidNotificationConfig as exc:
                raise InvalidNotificationConfig(f"{owner}: {exc}") from None
        if format not in WEBHOOK_FORMATS:
            raise InvalidNotificationConfig(
                f"{owner}: format must be one of {', '.join(WEBHOOK_FORMATS)}, got {format!r}."
            )
        self.format = format
        self.signing_secret = None if signing_secret is None else Secret.parse(signing_secret)
        self.timeout = _positive(owner, "timeout", timeout)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return ("url", "format", "signing_secret", "timeout")

    def config(self) -> dict[str, Any]:
        return {"format": self.format, "timeout": self.timeout}

    def secrets(self) -> dict[str, Secret]:
        out = {"url": self.url}
        if self.signing_secret is not None:
            out["signing_secret"] = self.signing_secret
        return out

    def summary(self) -> str:
        signed = ", signed" if self.signing_secret is not None else ""
        return f"{self.format} webhook to {self.url.describe()}{signed}"


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidNotificationConfig(
            "url must be an http:// or https:// URL with a host (or env:NAME to read it "
            "from the environment)."
        )
    return url.strip()


def _address(owner: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        raise InvalidNotificationConfig(
            f"{owner}: {field} must be an e-mail address like ops@example.com, got {value!r}."
        )
    return value.strip()


CHANNEL_TYPES: dict[str, type[Channel]] = {"email": EmailChannel, "webhook": WebhookChannel}
