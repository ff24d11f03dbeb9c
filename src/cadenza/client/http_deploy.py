"""The deployment store of a cadenza server, over its REST API.

:class:`HttpDeploymentStore` implements :class:`~cadenza.store.deploy_base.DeploymentStore`
with the routes of ``/api/deployments``, ``/api/work_pools`` and
``/api/scheduled_flow_runs``: with ``CADENZA_API_URL`` set, the command line,
``flow.deploy``, workers and executed runs use it instead of the database. Errors the
server answers come back as the same cadenza exceptions (the body names the class).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from cadenza import exceptions
from cadenza.client.http_worker import HttpConcurrencyMixin, HttpWorkerMixin
from cadenza.deploy.deployments import Deployment
from cadenza.deploy.pools import WorkPool, WorkQueue
from cadenza.deploy.serialize import (
    deployment_from_json,
    deployment_json,
    pool_from_json,
    pool_json,
    queue_from_json,
    queue_json,
)
from cadenza.events import FlowRunCreated
from cadenza.events_json import encode_event
from cadenza.runs import FlowRun
from cadenza.states import State, StateType
from cadenza.store.deploy_base import UNSET, DeploymentStore, check_schedulable

_ERRORS: dict[str, type[exceptions.CadenzaError]] = {
    cls.__name__: cls
    for cls in (
        exceptions.DeploymentNotFound,
        exceptions.WorkPoolNotFound,
        exceptions.WorkQueueNotFound,
        exceptions.ObjectNotFound,
        exceptions.ObjectAlreadyExists,
        exceptions.DeploymentError,
        exceptions.ScheduleError,
        exceptions.ParameterTypeError,
        exceptions.StoreError,
        exceptions.ConcurrencyLimitNotFound,
        exceptions.ConcurrencyLimitError,
        exceptions.RunStateError,
    )
}
_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def _q(name: str) -> str:
    return quote(name, safe="")


class HttpDeploymentStore(HttpWorkerMixin, HttpConcurrencyMixin, DeploymentStore):
    """Deployments, work pools and their runs on the cadenza server at ``api_url``.

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
        self._clients: list[httpx.Client] = []
        self._clients_lock = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        # One client per thread: a worker's threads each keep their connection.
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(
                base_url=self.api_url + "/api", headers=self._headers, timeout=_TIMEOUT
            )
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        """Close the connections of every thread (the store may be used again after)."""
        with self._clients_lock:
            clients, self._clients = self._clients, []
        self._local = threading.local()
        for client in clients:
            client.close()

    # -- requests ----------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise exceptions.CadenzaError(
                f"Cannot reach the cadenza server at {self.api_url} (CADENZA_API_URL): "
                f"{exc}. Start it with `cadenza server start`, or unset CADENZA_API_URL."
            ) from None
        if response.is_success:
            return response.json()
        self._raise(response)

    def _raise(self, response: httpx.Response) -> NoReturn:
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = body.get("message") if isinstance(body, dict) else None
        message = message or f"{response.status_code} {response.reason_phrase}"
        error = _ERRORS.get(str(body.get("error_type"))) if isinstance(body, dict) else None
        if error is not None:
            raise error(message)
        if response.status_code in (401, 403):
            raise exceptions.CadenzaError(
                f"The cadenza server at {self.api_url} refused the request: {message}"
            )
        if response.status_code == 404:
            raise exceptions.ObjectNotFound(message)
        raise exceptions.CadenzaError(f"The cadenza server at {self.api_url} answered: {message}")

    def _get_or_none(self, path: str) -> Any:
        try:
            return self._request("GET", path)
        except exceptions.ObjectNotFound:
            return None

    def _runs(self, body: Mapping[str, Any]) -> list[FlowRun]:
        return [flow_run_from_api(d) for d in body["items"]]

    # -- deployments -------------------------------------------------------------------------
    def save_deployment(self, deployment: Deployment, *, now: float | None = None) -> Deployment:
        from cadenza.deploy.deployments import check_deployment

        check_deployment(deployment)
        body = {**deployment_json(deployment), "now": now}
        return deployment_from_json(self._request("POST", "/deployments", json=body))

    def read_deployment(self, deployment_id: str) -> Deployment | None:
        found = self._get_or_none(f"/deployments/{_q(deployment_id)}")
        return None if found is None else deployment_from_json(found)

    def read_deployment_by_name(self, flow_name: str, name: str) -> Deployment | None:
        found = self._get_or_none(f"/deployments/name/{_q(flow_name)}/{_q(name)}")
        return None if found is None else deployment_from_json(found)

    def list_deployments(
        self, *, flow_name: str | None = None, work_pool_name: str | None = None
    ) -> list[Deployment]:
        params = {
            k: v for k, v in (("flow_name", flow_name), ("work_pool_name", work_pool_name)) if v
        }
        body = self._request("GET", "/deployments", params=params)
        return [deployment_from_json(d) for d in body["items"]]

    def set_deployment_paused(
        self, deployment_id: str, paused: bool, *, now: float | None = None
    ) -> Deployment:
        action = "pause" if paused else "resume"
        params = {} if now is None else {"now": now}
        found = self._request("POST", f"/deployments/{_q(deployment_id)}/{action}", params=params)
        return deployment_from_json(found)

    def delete_deployment(self, deployment_id: str) -> bool:
        return bool(self._request("DELETE", f"/deployments/{_q(deployment_id)}")["deleted"])

    # -- runs of deployments -------------------------------------------------------------------
    def create_scheduled_flow_runs(self, runs: Sequence[FlowRun]) -> list[FlowRun]:
        check_schedulable(runs)
        if not runs:
            return []
        body = {"runs": [encode_event(FlowRunCreated(r, r.state)) for r in runs]}
        return self._runs(self._request("POST", "/scheduled_flow_runs", json=body))

    def list_scheduled_flow_runs(
        self,
        *,
        deployment_id: str | None = None,
        work_pool_name: str | None = None,
        before: float | None = None,
        state_names: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[FlowRun]:
        if limit <= 0:
            return []
        if state_names is not None and not state_names:
            return []
        params: list[tuple[str, Any]] = [("limit", limit)]
        for key, value in (
            ("deployment_id", deployment_id),
            ("work_pool_name", work_pool_name),
            ("before", before),
        ):
            if value is not None:
                params.append((key, value))
        params += [("state_name", n) for n in state_names or ()]
        return self._runs(self._request("GET", "/scheduled_flow_runs", params=params))

    def mark_late_flow_runs(
        self, *, before: float, now: float | None = None, limit: int = 1000
    ) -> list[FlowRun]:
        body = {"before": before, "now": now, "limit": limit}
        return self._runs(self._request("POST", "/scheduled_flow_runs/mark_late", json=body))

    def claim_flow_runs(
        self,
        pool_name: str,
        worker_id: str,
        limit: int,
        now: float | None = None,
        queues: Collection[str] | None = None,
    ) -> list[FlowRun]:
        body = {
            "worker_id": worker_id,
            "limit": max(limit, 0),
            "now": now,
            "queues": None if queues is None else list(queues),
        }
        return self._runs(self._request("POST", f"/work_pools/{_q(pool_name)}/claim", json=body))

    # -- work pools and queues -------------------------------------------------------------------
    def create_work_pool(self, pool: WorkPool, *, now: float | None = None) -> WorkPool:
        from cadenza.deploy.pools import check_pool

        check_pool(pool)
        body = {k: v for k, v in pool_json(pool).items() if not k.startswith("created")}
        body["now"] = now
        return pool_from_json(self._request("POST", "/work_pools", json=body))

    def read_work_pool(self, name: str) -> WorkPool | None:
        found = self._get_or_none(f"/work_pools/{_q(name)}")
        return None if found is None else pool_from_json(found)

    def list_work_pools(self) -> list[WorkPool]:
        return [pool_from_json(p) for p in self._request("GET", "/work_pools")["items"]]

    def update_work_pool(
        self,
        name: str,
        *,
        description: str | None = UNSET,
        paused: bool = UNSET,
        concurrency_limit: int | None = UNSET,
    ) -> WorkPool:
        from cadenza.deploy.pools import check_limit

        if concurrency_limit is not UNSET:
            check_limit(concurrency_limit, f"work pool {name!r}")
        body = _given(description=description, paused=paused, concurrency_limit=concurrency_limit)
        return pool_from_json(self._request("PATCH", f"/work_pools/{_q(name)}", json=body))

    def create_work_queue(self, queue: WorkQueue, *, now: float | None = None) -> WorkQueue:
        from cadenza.deploy.pools import check_queue

        check_queue(queue)
        body = {
            k: v
            for k, v in queue_json(queue).items()
            if k != "pool_name" and not k.startswith("created")
        }
        body["now"] = now
        path = f"/work_pools/{_q(queue.pool_name)}/queues"
        return queue_from_json(self._request("POST", path, json=body))

    def read_work_queue(self, pool_name: str, name: str) -> WorkQueue | None:
        found = self._get_or_none(f"/work_pools/{_q(pool_name)}/queues/{_q(name)}")
        return None if found is None else queue_from_json(found)

    def list_work_queues(self, pool_name: str) -> list[WorkQueue]:
        body = self._request("GET", f"/work_pools/{_q(pool_name)}/queues")
        return [queue_from_json(q) for q in body["items"]]

    def update_work_queue(
        self,
        pool_name: str,
        name: str,
        *,
        description: str | None = UNSET,
        priority: int = UNSET,
        paused: bool = UNSET,
        concurrency_limit: int | None = UNSET,
    ) -> WorkQueue:
        from cadenza.deploy.pools import check_limit, check_priority

        if priority is not UNSET:
            check_priority(priority)
        if concurrency_limit is not UNSET:
            check_limit(concurrency_limit, f"work queue {name!r}")
        body = _given(
            description=description,
            priority=priority,
            paused=paused,
            concurrency_limit=concurrency_limit,
        )
        path = f"/work_pools/{_q(pool_name)}/queues/{_q(name)}"
        return queue_from_json(self._request("PATCH", path, json=body))

    # -- flow runs -------------------------------------------------------------------------------
    def read_flow_run(self, flow_run_id: str) -> FlowRun | None:
        found = self._get_or_none(f"/flow_runs/{_q(flow_run_id)}")
        return None if found is None else flow_run_from_api(found)

    def add_flow_run_state_if(
        self, flow_run_id: str, state: State, *, current: Collection[StateType]
    ) -> bool:
        allowed = [StateType(t).value for t in current]
        if not allowed:
            return False
        body = {"state": state.to_dict(), "current": allowed}
        try:
            answer = self._request("POST", f"/flow_runs/{_q(flow_run_id)}/set_state", json=body)
        except exceptions.ObjectNotFound:
            return False
        return bool(answer["changed"])


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not UNSET}


def _state(d: Mapping[str, Any] | None) -> State | None:
    if d is None:
        return None
    return State(
        StateType(d["type"]),
        d["name"],
        message=d.get("message"),
        timestamp=d.get("timestamp_epoch"),
        error_type=d.get("error_type"),
        traceback=d.get("traceback"),
        data=d.get("data"),
    )


def flow_run_from_api(d: Mapping[str, Any]) -> FlowRun:
    """A flow run from its JSON form in the API (a listing, or a detail with history)."""
    history = d.get("history")
    return FlowRun(
        id=d["id"],
        name=d["name"],
        flow_name=d["flow_name"],
        parameters=dict(d.get("parameters") or {}),
        tags=list(d.get("tags") or []),
        parent_flow_run_id=d.get("parent_flow_run_id"),
        parent_task_run_id=d.get("parent_task_run_id"),
        created=d.get("created_epoch") or 0.0,
        version=d.get("version"),
        hostname=d.get("hostname"),
        pid=d.get("pid"),
        state=_state(d.get("state")),
        run_count=d.get("run_count") or 0,
        start_time=d.get("start_time_epoch"),
        end_time=d.get("end_time_epoch"),
        history=None if history is None else [s for s in map(_state, history) if s is not None],
        entrypoint=d.get("entrypoint"),
        deployment_id=d.get("deployment_id"),
        work_pool_name=d.get("work_pool_name"),
        work_queue_name=d.get("work_queue_name"),
        expected_start_time=d.get("expected_start_time_epoch"),
        idempotency_key=d.get("idempotency_key"),
        worker_id=d.get("worker_id"),
        heartbeat=d.get("heartbeat_epoch"),
    )
