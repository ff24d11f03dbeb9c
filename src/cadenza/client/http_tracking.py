"""Tracking against a cadenza server: the tracking store and the artifact store over
its REST API (``CADENZA_API_URL``), with httpx.

:class:`HttpTrackingStore` implements :class:`~cadenza.store.tracking_base.TrackingStore`
and :class:`HttpArtifactStore` implements
:class:`~cadenza.tracking.artifacts.ArtifactStore`, so that
:class:`cadenza.TrackingClient` and the artifact functions work the same against a
server as on the embedded store. Files are streamed both ways through the server
(``PUT``/``GET /api/runs/{run_id}/artifacts/{path}``): a client needs no access to
the server's storage.

Errors of the server come back as cadenza's own: 404 as
:class:`~cadenza.exceptions.ObjectNotFound` (or None where the interface says so),
an invalid filter as :class:`~cadenza.tracking.errors.InvalidFilter`, and so on,
with the server's message.
"""

from __future__ import annotations

import threading
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, cast

import httpx

from cadenza.events_json import json_number
from cadenza.events_json import number_from_json as _float
from cadenza.exceptions import CadenzaError, ObjectNotFound, StoreError
from cadenza.store.tracking_base import ExperimentKeys, TrackingStore
from cadenza.tracking.artifacts import CHUNK, ArtifactFile, ArtifactStore, validate_run_id
from cadenza.tracking.entities import (
    Dataset,
    Experiment,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunPage,
    RunTag,
)
from cadenza.tracking.errors import (
    ArtifactNotFound,
    ExperimentAlreadyExists,
    InvalidArtifactPath,
    InvalidFilter,
    InvalidTrackingValue,
    ParamConflict,
)

_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def quote_path(path: str) -> str:
    """An artifact path as the tail of a URL, each part escaped."""
    return "/".join(urllib.parse.quote(part, safe="") for part in path.split("/"))


class ServerApi:
    """Requests to a cadenza server's API, with its errors turned into cadenza's.

    Args:
        api_url: the server's URL (``CADENZA_API_URL``), with or without ``/api``.
        api_key: sent as ``Authorization: Bearer <key>`` (``CADENZA_API_KEY``).
    """

    def __init__(self, api_url: str, api_key: str | None = None) -> None:
        from cadenza.reporting.http import normalize_api_url

        self.api_url = normalize_api_url(api_url)
        headers = {"User-Agent": "cadenza"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._headers = headers
        self._local = threading.local()

    @property
    def http(self) -> httpx.Client:
        """This thread's connection (httpx clients are not shared between threads)."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(
                base_url=self.api_url + "/api",
                headers=self._headers,
                timeout=_TIMEOUT,
                follow_redirects=True,
            )
            # Closed with this object at the latest, so that no socket is left open.
            weakref.finalize(self, client.close)
        return client

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; returns a successful response.

        Raises:
            ObjectNotFound: the server answered 404 (an :class:`ArtifactNotFound`
                for artifact paths).
            CadenzaError: another error, with the server's message.
        """
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise StoreError(
                f"Cannot reach the cadenza server at {self.api_url} (CADENZA_API_URL): "
                f"{exc or type(exc).__name__}. Start it with `cadenza server start`, or "
                "unset CADENZA_API_URL to use the local database."
            ) from None
        if response.is_success:
            return response
        raise self.error(response, path)

    def error(self, response: httpx.Response, path: str) -> CadenzaError:
        """The cadenza error of an error response."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = body.get("code", "") if isinstance(body, dict) else ""
        message = body.get("message") if isinstance(body, dict) else None
        text = str(message or response.text[:300] or response.reason_phrase)
        status = response.status_code
        if status == 404:
            return ArtifactNotFound(text) if "/artifacts" in path else ObjectNotFound(text)
        if status == 401:
            return CadenzaError(f"{text} (server {self.api_url})")
        if status == 409 and code == "CONFLICT":
            return ExperimentAlreadyExists(text)
        if status == 409 and code == "PARAM_CONFLICT":
            return ParamConflict(text)
        if status == 400:
            if code == "INVALID_FILTER":
                return InvalidFilter(text)
            if code == "INVALID_ARTIFACT_PATH":
                return InvalidArtifactPath(text)
            return InvalidTrackingValue(text)
        return StoreError(f"The cadenza server at {self.api_url} answered {status}: {text}")

    def get(self, url: str, **params: Any) -> Any:
        return self.request("GET", url, params=params or None).json()

    def get_or_none(self, url: str, **params: Any) -> Any:
        try:
            return self.get(url, **params)
        except ObjectNotFound:
            return None

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body).json()

    def close(self) -> None:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is not None:
            client.close()
            self._local.client = None


# -- from the API's JSON -----------------------------------------------------------------
def experiment_from(d: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=d["experiment_id"],
        name=d["name"],
        creation_time=d["creation_time_epoch"],
        description=d.get("description"),
        run_count=d.get("run_count", 0),
        last_run_time=d.get("last_run_time_epoch"),
    )


def run_from(d: dict[str, Any]) -> Run:
    i = d["info"]
    info = RunInfo(
        run_id=i["run_id"],
        run_name=i["run_name"],
        kind=i["kind"],
        status=i["status"],
        experiment_id=i["experiment_id"],
        flow_run_id=i["flow_run_id"],
        start_time=i["start_time_epoch"],
        end_time=i["end_time_epoch"],
        created=i["created_epoch"],
    )
    return Run(info, data_from(d["data"]), [dataset_from(x) for x in d.get("inputs") or []])


def data_from(d: dict[str, Any]) -> RunData:
    return RunData(
        params=dict(d.get("params") or {}),
        metrics={k: _float(v) for k, v in (d.get("metrics") or {}).items()},
        tags=dict(d.get("tags") or {}),
    )


def dataset_from(d: dict[str, Any]) -> Dataset:
    return Dataset(
        name=d["name"],
        digest=d["digest"],
        source=d.get("source"),
        context=d.get("context"),
        schema=d.get("columns"),
        num_rows=d.get("num_rows"),
        timestamp=d.get("timestamp_epoch") or 0.0,
        profile=d.get("profile"),
    )


def dataset_body(d: Dataset) -> dict[str, Any]:
    return {
        "name": d.name,
        "digest": d.digest,
        "source": d.source,
        "context": d.context,
        "schema": d.schema,
        "num_rows": d.num_rows,
        "profile": d.profile,
        "timestamp_epoch": d.timestamp or None,
    }


class HttpTrackingStore(TrackingStore):
    """A :class:`TrackingStore` served by a cadenza server.

    Args:
        api_url: the server's URL (``CADENZA_API_URL``).
        api_key: its API key (``CADENZA_API_KEY``).
    """

    def __init__(self, api_url: str, api_key: str | None = None) -> None:
        self.api = ServerApi(api_url, api_key)

    # -- experiments ---------------------------------------------------------------------
    def create_experiment(self, name: str, description: str | None = None) -> Experiment:
        from cadenza.tracking.values import experiment_name

        body = {"name": experiment_name(name), "description": description}
        return experiment_from(self.api.post("/experiments", body))

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        found = self.api.get_or_none(f"/experiments/{quote_path(experiment_id)}")
        return experiment_from(found) if found is not None else None

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = self.api.get_or_none("/experiments/by-name", name=name)
        return experiment_from(found) if found is not None else None

    def list_experiments(self) -> list[Experiment]:
        return [experiment_from(d) for d in self.api.get("/experiments")["items"]]

    def experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        found = self.api.get_or_none(f"/experiments/{quote_path(experiment_id)}/keys")
        if found is None:
            return ExperimentKeys([], [], [])
        return ExperimentKeys(found["params"], found["metrics"], found["tags"])

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run | None:
        found = self.api.get_or_none(f"/runs/{quote_path(run_id)}")
        return run_from(found) if found is not None else None

    def get_run_data(self, run_id: str) -> RunData:
        found = self.api.get_or_none(f"/runs/{quote_path(run_id)}/data")
        return data_from(found) if found is not None else RunData()

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        found = self.api.get_or_none(f"/runs/{quote_path(run_id)}/metric-history", key=key)
        if found is None:
            return []
        return [
            Metric(key, _float(p["value"]), p["timestamp_epoch"], p["step"]) for p in found["items"]
        ]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        from cadenza.store.tracking_sql import check_max_results
        from cadenza.tracking.search import decode_page_token, parse_filter, parse_order_by

        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        if isinstance(order_by, str):
            order_by = [order_by]
        # The same errors as the embedded store, without a request.
        check_max_results(max_results)
        parse_filter(filter_string)
        parse_order_by(order_by)
        decode_page_token(page_token)
        if not experiment_ids:
            return RunPage([])
        body = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string or "",
            "order_by": list(order_by or []),
            "max_results": max_results,
            "page_token": page_token,
        }
        found = self.api.post("/runs/search", body)
        return RunPage([run_from(d) for d in found["runs"]], found["next_page_token"])

    def list_datasets(self, run_id: str) -> list[Dataset]:
        found = self.api.get_or_none(f"/runs/{quote_path(run_id)}/datasets")
        return [dataset_from(d) for d in found["items"]] if found is not None else []

    # -- writing ---------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        from cadenza.store.tracking_sql import batch_events

        batch_events(run_id, metrics, params, tags)  # the same errors as the embedded store
        body = {
            "metrics": [
                {
                    "key": m.key,
                    "value": json_number(float(m.value)),
                    "timestamp": m.timestamp,
                    "step": m.step,
                }
                for m in metrics
            ],
            "params": [{"key": p.key, "value": str(p.value)} for p in params],
            "tags": [{"key": t.key, "value": str(t.value)} for t in tags],
        }
        self.api.post(f"/runs/{quote_path(run_id)}/log-batch", body)

    def log_inputs(self, run_id: str, datasets: Sequence[Dataset]) -> None:
        body = {"datasets": [dataset_body(d) for d in datasets]}
        self.api.post(f"/runs/{quote_path(run_id)}/datasets", body)

    def close(self) -> None:
        self.api.close()


class HttpArtifactStore(ArtifactStore):
    """The artifact store of a cadenza server, through its API.

    Args:
        api_url: the server's URL (``CADENZA_API_URL``).
        api_key: its API key (``CADENZA_API_KEY``).
    """

    def __init__(self, api_url: str, api_key: str | None = None) -> None:
        self.api = ServerApi(api_url, api_key)

    def _url(self, run_id: str, path: str) -> str:
        tail = f"/{quote_path(path)}" if path else ""
        return f"/runs/{quote_path(validate_run_id(run_id))}/artifacts{tail}"

    def uri(self, run_id: str, path: str) -> str:
        return self.api.api_url + "/api" + self._url(run_id, path)

    def upload(self, run_id: str, path: str, source: BinaryIO) -> None:
        if not path:
            raise InvalidArtifactPath("An artifact file needs a path under the run's root.")

        def chunks() -> Iterator[bytes]:
            while block := source.read(CHUNK):
                yield block

        self.api.request(
            "PUT",
            self._url(run_id, path),
            content=chunks(),
            headers={"Content-Type": "application/octet-stream"},
        )

    def _listing(self, run_id: str, path: str, recursive: bool) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.api.get(
                self._url(run_id, ""), path=path, recursive=recursive
            )
        except ArtifactNotFound:
            return None  # the server does not know the run
        return found

    def stat(self, run_id: str, path: str) -> ArtifactFile | None:
        found = self._listing(run_id, path, False)
        entry = found.get("entry") if found else None
        return ArtifactFile(entry["path"], entry["is_dir"], entry["size"]) if entry else None

    def list(self, run_id: str, path: str = "", *, recursive: bool = False) -> list[ArtifactFile]:
        found = self._listing(run_id, path, recursive)
        if not found:
            return []
        return [ArtifactFile(f["path"], f["is_dir"], f["size"]) for f in found["files"]]

    def open(self, run_id: str, path: str) -> BinaryIO:
        return cast(BinaryIO, _Download(self.api, self._url(run_id, path)))

    def close(self) -> None:
        self.api.close()


class _Download:
    """A file of the server read as a stream (a binary file object for ``read``)."""

    def __init__(self, api: ServerApi, url: str) -> None:
        request = api.http.build_request("GET", url)
        try:
            response = api.http.send(request, stream=True)
        except httpx.TransportError:
            api.request("GET", url)  # raises the error saying the server is unreachable
            raise
        if not response.is_success:
            response.read()
            response.close()
            raise api.error(response, url)
        self._response = response
        self._chunks = response.iter_bytes(CHUNK)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            block = next(self._chunks, None)
            if block is None:
                break
            self._buffer += block
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> _Download:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
