"""``HttpRegistryStore``: the model registry of a cadenza server, over its REST API.

It implements :class:`~cadenza.store.registry_base.RegistryStore`, so that the fluent
functions, :class:`~cadenza.registry.client.RegistryClient` and the command line work
the same against a server (``CADENZA_API_URL``) as against the embedded database.
The server's errors come back as the same exceptions an embedded store raises.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from cadenza.exceptions import (
    InvalidModelError,
    ModelAlreadyExistsError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    StoreError,
)
from cadenza.registry.entities import LoggedModel, ModelVersion, RegisteredModel, Transition
from cadenza.store.registry_base import RegistryStore

_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def _q(part: str | int) -> str:
    """A path segment of the API; an empty one would name another endpoint."""
    text = str(part)
    if not text:
        raise InvalidModelError("An empty name, alias or key names nothing.", field="name")
    return quote(text, safe="")


class HttpRegistryStore(RegistryStore):
    """The registry of the cadenza server at ``api_url``.

    Args:
        api_url: the server (``http://host:4200``, with or without ``/api``).
        api_key: sent as ``Authorization: Bearer <key>`` when given.
    """

    def __init__(self, api_url: str, *, api_key: str | None = None) -> None:
        from cadenza.reporting.http import normalize_api_url

        self.api_url = normalize_api_url(api_url)
        self._api_key = api_key
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        http = self._http
        if http is None:
            with self._lock:
                if self._http is None:
                    headers = {"Accept": "application/json"}
                    if self._api_key:
                        headers["Authorization"] = f"Bearer {self._api_key}"
                    self._http = httpx.Client(
                        base_url=self.api_url + "/api", headers=headers, timeout=_TIMEOUT
                    )
                http = self._http
        return http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
    ) -> Any:
        try:
            response = self._client().request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise StoreError(
                f"Could not reach the cadenza server at {self.api_url} ({exc}). Check that "
                "it runs and that CADENZA_API_URL is right."
            ) from None
        if response.status_code >= 400:
            raise _error(response, self.api_url)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": dict(tags or {})}
        return _model(self._call("POST", "/registered_models", json=body))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return _model(self._call("GET", f"/registered_models/{_q(name)}"))

    def search_registered_models(
        self,
        *,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int = 100,
        after_name: str | None = None,
    ) -> list[RegisteredModel]:
        out: list[RegisteredModel] = []
        cursor = after_name
        while len(out) < limit:
            params: dict[str, Any] = {"limit": min(limit - len(out), 500)}
            if name_like is not None:
                params["name_like"] = name_like
            if tags:
                params["tag"] = [f"{k}={v}" for k, v in tags.items()]
            if cursor is not None:
                params["cursor"] = cursor
            page = self._call("GET", "/registered_models", params=params)
            out += [_model(m) for m in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return out

    def update_registered_model(self, name: str, *, description: str | None) -> RegisteredModel:
        body = {"description": description}
        return _model(self._call("PATCH", f"/registered_models/{_q(name)}", json=body))

    def delete_registered_model(self, name: str) -> None:
        self._call("DELETE", f"/registered_models/{_q(name)}")

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._call(
            "PUT", f"/registered_models/{_q(name)}/tags/{_q(key)}", json={"value": str(value)}
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("DELETE", f"/registered_models/{_q(name)}/tags/{_q(key)}")

    # -- versions ------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        flow_run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        code_version: str | None = None,
        signature: Mapping[str, Any] | None = None,
        user: str | None = None,
    ) -> ModelVersion:
        body = {
            "source": source,
            "run_id": run_id,
            "flow_run_id": flow_run_id,
            "description": description,
            "tags": dict(tags or {}),
            "code_version": code_version,
            "signature": dict(signature) if signature else None,
            "user": user,
        }
        return _version(self._call("POST", f"/registered_models/{_q(name)}/versions", json=body))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return _version(self._call("GET", _version_path(name, version)))

    def search_model_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        flow_run_id: str | None = None,
        stage: str | None = None,
        limit: int = 100,
    ) -> list[ModelVersion]:
        if limit <= 0:
            return []
        given = {"name": name, "run_id": run_id, "flow_run_id": flow_run_id, "stage": stage}
        params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        params["limit"] = min(limit, 500)
        return [_version(v) for v in self._call("GET", "/model_versions", params=params)]

    def update_model_version(
        self, name: str, version: int, *, description: str | None
    ) -> ModelVersion:
        body = {"description": description}
        return _version(self._call("PATCH", _version_path(name, version), json=body))

    def delete_model_version(self, name: str, version: int) -> None:
        self._call("DELETE", _version_path(name, version))

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        path = f"{_version_path(name, version)}/tags/{_q(key)}"
        self._call("PUT", path, json={"value": str(value)})

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self._call("DELETE", f"{_version_path(name, version)}/tags/{_q(key)}")

    # -- stages ----------------------------------------------------------------------------
    def transition_model_version_stage(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        archive_existing_versions: bool = False,
        user: str | None = None,
        comment: str | None = None,
    ) -> ModelVersion:
        body = {
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
            "user": user,
            "comment": comment,
        }
        return _version(self._call("POST", f"{_version_path(name, version)}/stage", json=body))

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        params = {"stages": list(stages)} if stages else None
        found = self._call("GET", f"/registered_models/{_q(name)}/latest_versions", params=params)
        return [_version(v) for v in found]

    # -- aliases ---------------------------------------------------------------------------
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        from cadenza.registry import validate

        body = {"version": int(version), "user": user, "comment": comment}
        alias = validate.alias(alias)
        self._call("PUT", _alias_path(name, alias), json=body)

    def delete_registered_model_alias(
        self,
        name: str,
        alias: str,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        given = {"user": user, "comment": comment}
        self._call(
            "DELETE",
            _alias_path(name, alias),
            params={k: v for k, v in given.items() if v is not None},
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return _version(self._call("GET", _alias_path(name, alias)))

    def list_transitions(
        self, name: str, *, version: int | None = None, limit: int = 1000
    ) -> list[Transition]:
        if limit <= 0:
            self.get_registered_model(name)
            return []
        params: dict[str, Any] = {"limit": min(limit, 10_000)}
        if version is not None:
            params["version"] = int(version)
        found = self._call("GET", f"/registered_models/{_q(name)}/history", params=params)
        return [_transition(t) for t in found]

    # -- models logged by runs --------------------------------------------------------------
    def record_logged_model(self, model: LoggedModel) -> None:
        body = {
            "run_id": model.run_id,
            "artifact_path": model.artifact_path,
            "flow_run_id": model.flow_run_id,
            "flavors": list(model.flavors),
            "signature": model.signature,
            "requirements": list(model.requirements),
            "code_version": model.code_version,
            "created": model.created or None,
        }
        self._call("POST", "/logged_models", json=body)

    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        found = self._call("GET", f"/runs/{_q(run_id)}/models")
        return [
            LoggedModel(
                run_id=m["run_id"],
                artifact_path=m["artifact_path"],
                flow_run_id=m["flow_run_id"],
                flavors=m["flavors"],
                signature=m["signature"],
                requirements=m["requirements"],
                code_version=m["code_version"],
                created=m["created_epoch"],
            )
            for m in found
        ]


def _version_path(name: str, version: int) -> str:
    return f"/registered_models/{_q(name)}/versions/{_q(version)}"


def _alias_path(name: str, alias: str) -> str:
    return f"/registered_models/{_q(name)}/aliases/{_q(alias)}"


def _version(v: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=v["name"],
        version=v["version"],
        source=v["source"],
        run_id=v["run_id"],
        flow_run_id=v["flow_run_id"],
        status=v["status"],
        current_stage=v["current_stage"],
        description=v["description"],
        code_version=v["code_version"],
        signature=v["signature"],
        user_id=v["user_id"],
        created=v["created_epoch"],
        updated=v["updated_epoch"],
        tags=v["tags"],
        aliases=v["aliases"],
    )


def _model(m: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=m["name"],
        description=m["description"],
        created=m["created_epoch"],
        updated=m["updated_epoch"],
        tags=m["tags"],
        aliases=m["aliases"],
        latest_versions=[_version(v) for v in m["latest_versions"]],
        latest_version=m["latest_version"],
    )


def _transition(t: dict[str, Any]) -> Transition:
    return Transition(
        name=t["name"],
        version=t["version"],
        kind=t["kind"],
        from_value=t["from_value"],
        to_value=t["to_value"],
        user=t["user"],
        timestamp=t["timestamp_epoch"],
        alias=t["alias"],
        comment=t["comment"],
        id=t["id"],
    )


def _error(response: httpx.Response, api_url: str) -> Exception:
    """The exception an embedded store would raise for the server's error response."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    message = str(body.get("message") if isinstance(body, dict) else "") or response.text
    details = body.get("details") if isinstance(body, dict) else None
    field = details[0].get("field") if isinstance(details, list) and details else None
    if code == "RESOURCE_DOES_NOT_EXIST":
        if field == "name":
            return ModelNotFoundError(message)
        return ModelVersionNotFoundError(message)
    if code == "RESOURCE_ALREADY_EXISTS":
        return ModelAlreadyExistsError(message)
    if code == "INVALID_PARAMETER_VALUE":
        return InvalidModelError(message, field=field)
    if code == "NOT_FOUND" and response.status_code == 404:
        return StoreError(
            f"The cadenza server at {api_url} has no model registry (it answered 404 to "
            f"{response.request.url.path}): upgrade the server."
        )
    return StoreError(f"The cadenza server at {api_url} answered {response.status_code}: {message}")
