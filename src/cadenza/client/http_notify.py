"""The notification store of a cadenza server, over its REST API.

:class:`HttpNotificationStore` implements
:class:`~cadenza.store.notify_base.NotificationStore` with the routes under
``/api/channels``, ``/api/automations`` and ``/api/notifications``, so that the
command line and the Python API work against a server as against the embedded
database. Secrets are sent to the server (which encrypts them) and never come back:
a channel read from the server has hidden secrets (``••••``) or ``env:NAME``
references.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from cadenza.exceptions import (
    CadenzaError,
    InvalidNotificationConfig,
    ObjectAlreadyExists,
    ObjectNotFound,
    SecretError,
)
from cadenza.notify.automations import Automation
from cadenza.notify.channels import Channel
from cadenza.notify.records import DeliveryAttempt, OutboxMessage, RunNotification
from cadenza.notify.secrets import Secret
from cadenza.store.notify_base import NotificationStore

_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class HttpNotificationStore(NotificationStore):
    """Channels, automations and the outbox of the server at ``api_url``.

    Each call is one request on a connection of its own (these calls are few: a
    command, a hook's request), so that nothing stays open between them.

    Args:
        api_url: the server (``http://host:4200``, with or without ``/api``).
        api_key: its API key, if it has one.
    """

    def __init__(self, api_url: str, api_key: str | None = None) -> None:
        from cadenza.reporting.http import normalize_api_url

        self.api_url = normalize_api_url(api_url)
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def close(self) -> None:
        """Nothing to release: no connection outlives its request."""

    # -- requests ----------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, json: Any = None, params: Any = None, missing: Any = ...
    ) -> Any:
        """The JSON answer of a request; ``missing`` is returned for a 404 when given."""
        try:
            with httpx.Client(
                base_url=self.api_url + "/api", headers=self._headers, timeout=_TIMEOUT
            ) as client:
                response = client.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise CadenzaError(
                f"Could not reach the cadenza server at {self.api_url} "
                f"({type(exc).__name__}: {exc}). Check CADENZA_API_URL and that it runs."
            ) from None
        if response.status_code == 404 and missing is not ...:
            return missing
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- channels ----------------------------------------------------------------------
    def create_channel(self, channel: Channel, *, replace: bool = False) -> Channel:
        secrets = {}
        for field, secret in channel.secrets().items():
            if secret.env_name is not None:
                secrets[field] = secret.describe()
            elif secret.given_value is not None:
                secrets[field] = secret.given_value
            else:
                raise SecretError(
                    f"The {field} of channel {channel.name!r} is kept by the server; give "
                    "its value again to replace the channel."
                )
        body = {
            "name": channel.name,
            "type": channel.type,
            "config": channel.config(),
            "secrets": secrets,
            "replace": replace,
        }
        return _channel(self._call("POST", "/channels", json=body))

    def read_channel(self, name: str) -> Channel | None:
        found = self._call("GET", f"/channels/{name}", missing=None)
        return None if found is None else _channel(found)

    def list_channels(self) -> list[Channel]:
        return [_channel(c) for c in self._call("GET", "/channels")["items"]]

    def delete_channel(self, name: str) -> bool:
        return self._call("DELETE", f"/channels/{name}", missing=False) is None

    # -- automations -------------------------------------------------------------------
    def create_automation(self, automation: Automation, *, replace: bool = False) -> Automation:
        body = automation.to_dict()
        for key in ("id", "created", "summary"):
            body.pop(key)
        body["replace"] = replace
        return Automation.from_dict(self._call("POST", "/automations", json=body))

    def read_automation(self, name: str) -> Automation | None:
        found = self._call("GET", f"/automations/{name}", missing=None)
        return None if found is None else Automation.from_dict(found)

    def list_automations(self, *, enabled_only: bool = False) -> list[Automation]:
        found = [Automation.from_dict(a) for a in self._call("GET", "/automations")["items"]]
        return [a for a in found if a.enabled] if enabled_only else found

    def set_automation_enabled(self, name: str, enabled: bool) -> bool:
        action = "enable" if enabled else "disable"
        return self._call("POST", f"/automations/{name}/{action}", missing=None) is not None

    def delete_automation(self, name: str) -> bool:
        return self._call("DELETE", f"/automations/{name}", missing=False) is None

    # -- the outbox --------------------------------------------------------------------
    def notify_run(self, request: RunNotification) -> str | None:
        body = {
            "channel": request.channel,
            "flow_run_id": request.flow_run_id,
            "flow_name": request.flow_name,
            "run_name": request.run_name,
            "state": request.state.to_dict(),
            "subject": request.subject,
            "body": request.body,
            "source": request.source,
            "task_run": request.task_run,
        }
        answer = self._call("POST", "/notifications", json=body)
        found: str | None = answer["id"]
        return found

    def send_message(
        self,
        channel: str,
        subject: str,
        body: str,
        *,
        to: Sequence[str] | None = None,
        source: str = "test",
    ) -> OutboxMessage:
        answer = self._call(
            "POST",
            f"/channels/{channel}/send",
            json={
                "subject": subject,
                "body": body,
                "to": list(to) if to else None,
                "source": source,
            },
            missing=None,
        )
        if answer is None:
            raise ObjectNotFound(f"There is no channel named {channel!r} on the server.")
        return _message(answer)

    def read_message(self, message_id: str) -> OutboxMessage | None:
        found = self._call("GET", f"/notifications/{message_id}", missing=None)
        return None if found is None else _message(found)

    def list_messages(
        self,
        *,
        automation: str | None = None,
        channel: str | None = None,
        flow_run_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        before_id: str | None = None,
    ) -> list[OutboxMessage]:
        out: list[OutboxMessage] = []
        cursor = before_id
        params = {
            k: v
            for k, v in (
                ("automation", automation),
                ("channel", channel),
                ("flow_run_id", flow_run_id),
                ("status", status),
            )
            if v is not None
        }
        while len(out) < limit:
            page_params = {**params, "limit": min(limit - len(out), 500)}
            if cursor is not None:
                page_params["cursor"] = cursor
            page = self._call("GET", "/notifications", params=page_params)
            out += [_message(x) for x in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return out[:limit] if limit > 0 else []

    def list_attempts(self, message_id: str) -> list[DeliveryAttempt]:
        found = self._call("GET", f"/notifications/{message_id}", missing=None)
        if found is None:
            return []
        return [
            DeliveryAttempt(
                a["message_id"],
                a["attempt"],
                a["timestamp"],
                a["ok"],
                a["error"],
                a["duration"],
                a["id"],
            )
            for a in found["attempts_history"]
        ]


def _error(response: httpx.Response) -> Exception:
    try:
        body = response.json()
        message = str(body.get("message") or body)
    except ValueError:
        message = response.text[:300] or f"the server answered {response.status_code}"
    if response.status_code == 409:
        if "exists already" in message:
            return ObjectAlreadyExists(message)
        return InvalidNotificationConfig(message)
    if response.status_code in (400, 422):
        return InvalidNotificationConfig(message)
    if response.status_code == 404:
        return ObjectNotFound(message)
    if response.status_code == 401:
        return CadenzaError(f"{message} (set CADENZA_API_KEY to the server's key)")
    return CadenzaError(f"The cadenza server answered {response.status_code}: {message}")


def _channel(data: dict[str, Any]) -> Channel:
    secrets = {
        k: Secret.env(v["env"]) if v.get("kind") == "env" else Secret.hidden()
        for k, v in data.get("secrets", {}).items()
    }
    channel = Channel.from_parts(data["name"], data["type"], data.get("config", {}), secrets)
    channel.id = data.get("id")
    channel.created = data.get("created")
    return channel


def _message(data: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=data["id"],
        dedup_key="",
        channel=data["channel"],
        subject=data["subject"],
        body=data["body"],
        event=data["event"],
        source=data["source"],
        created=data["created"],
        flow_run_id=data.get("flow_run_id"),
        automation_id=data.get("automation_id"),
        automation_name=data.get("automation_name"),
        status=data["status"],
        attempts=data["attempts"],
        next_attempt_at=data.get("next_attempt_at") or 0.0,
        sent_at=data.get("sent_at"),
        last_error=data.get("last_error"),
    )
