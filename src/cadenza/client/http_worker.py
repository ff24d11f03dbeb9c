"""The worker and concurrency limit methods of the server-backed store, over the REST
API (``/api/workers``, ``/api/concurrency_limits``, ``/api/concurrency_slots`` and the
worker routes of work pools and flow runs): mixins of
:class:`~cadenza.client.http_deploy.HttpDeploymentStore`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from cadenza.deploy.records import (
    ConcurrencyLimit,
    WorkerRecord,
    check_concurrency_limit,
    limit_from_json,
    worker_from_json,
)
from cadenza.runs import FlowRun
from cadenza.store.concurrency_base import ConcurrencyLimitStore
from cadenza.store.worker_base import MAX_CLAIM_WAIT, WorkerStore

_LONG_POLL_SLACK = 15.0
"""Seconds a waiting claim's request may take beyond its wait before it times out."""


def _q(name: str) -> str:
    return quote(name, safe="")


class _Requests:
    if TYPE_CHECKING:

        def _request(self, method: str, path: str, **kw: Any) -> Any: ...

        def _get_or_none(self, path: str) -> Any: ...

        def _runs(self, body: Mapping[str, Any]) -> list[FlowRun]: ...


class HttpWorkerMixin(_Requests, WorkerStore):
    """:class:`~cadenza.store.worker_base.WorkerStore` over the REST API."""

    def worker_heartbeat(
        self, worker: WorkerRecord, flow_run_ids: Collection[str], *, now: float | None = None
    ) -> list[str]:
        body = {
            "name": worker.name,
            "pool_name": worker.pool_name,
            "hostname": worker.hostname,
            "pid": worker.pid,
            "started_epoch": worker.started or None,
            "flow_run_ids": list(flow_run_ids),
            "now": now,
        }
        answer = self._request("POST", f"/workers/{_q(worker.id)}/heartbeat", json=body)
        return list(answer["cancelling"])

    def read_worker(self, worker_id: str) -> WorkerRecord | None:
        found = self._get_or_none(f"/workers/{_q(worker_id)}")
        return None if found is None else worker_from_json(found)

    def list_workers(self, *, pool_name: str | None = None) -> list[WorkerRecord]:
        params = {} if pool_name is None else {"pool_name": pool_name}
        body = self._request("GET", "/workers", params=params)
        return [worker_from_json(w) for w in body["items"]]

    def delete_worker(self, worker_id: str) -> bool:
        return bool(self._request("DELETE", f"/workers/{_q(worker_id)}")["deleted"])

    def next_due_time(
        self, pool_name: str, *, queues: Collection[str] | None = None
    ) -> float | None:
        if queues is not None and not queues:
            return None
        params = [("queue", q) for q in queues or ()]
        body = self._request("GET", f"/work_pools/{_q(pool_name)}/next_due", params=params)
        due = body["due_epoch"]
        return None if due is None else float(due)

    def claim_flow_runs_waiting(
        self,
        pool_name: str,
        worker_id: str,
        limit: int,
        *,
        wait: float,
        queues: Collection[str] | None = None,
    ) -> list[FlowRun]:
        wait = min(max(wait, 0.0), MAX_CLAIM_WAIT)
        body = {
            "worker_id": worker_id,
            "limit": max(limit, 0),
            "wait": wait,
            "queues": None if queues is None else list(queues),
        }
        timeout = httpx.Timeout(wait + _LONG_POLL_SLACK, connect=5.0)
        path = f"/work_pools/{_q(pool_name)}/claim_waiting"
        return self._runs(self._request("POST", path, json=body, timeout=timeout))

    def release_flow_run(
        self, flow_run_id: str, worker_id: str, *, message: str, now: float | None = None
    ) -> bool:
        body = {"worker_id": worker_id, "message": message, "now": now}
        answer = self._request("POST", f"/flow_runs/{_q(flow_run_id)}/release", json=body)
        return bool(answer["released"])


class HttpConcurrencyMixin(_Requests, ConcurrencyLimitStore):
    """:class:`~cadenza.store.concurrency_base.ConcurrencyLimitStore` over the REST API."""

    def set_concurrency_limit(
        self, tag: str, limit: int, *, now: float | None = None
    ) -> ConcurrencyLimit:
        check_concurrency_limit(tag, limit)
        body = {"limit": limit, "now": now}
        return limit_from_json(self._request("PUT", f"/concurrency_limits/{_q(tag)}", json=body))

    def read_concurrency_limit(
        self, tag: str, *, now: float | None = None
    ) -> ConcurrencyLimit | None:
        params = {} if now is None else {"now": now}
        found = self._get_or_none_params(f"/concurrency_limits/{_q(tag)}", params)
        return None if found is None else limit_from_json(found)

    def list_concurrency_limits(self, *, now: float | None = None) -> list[ConcurrencyLimit]:
        params = {} if now is None else {"now": now}
        body = self._request("GET", "/concurrency_limits", params=params)
        return [limit_from_json(x) for x in body["items"]]

    def delete_concurrency_limit(self, tag: str) -> bool:
        return bool(self._request("DELETE", f"/concurrency_limits/{_q(tag)}")["deleted"])

    def acquire_concurrency_slots(
        self, tags: Collection[str], holder: str, *, ttl: float, now: float | None = None
    ) -> bool:
        if not tags:
            return True
        body = {"tags": list(tags), "holder": holder, "ttl": ttl, "now": now}
        return bool(self._request("POST", "/concurrency_slots/acquire", json=body)["acquired"])

    def renew_concurrency_slots(
        self, holders: Collection[str], *, ttl: float, now: float | None = None
    ) -> int:
        if not holders:
            return 0
        body = {"holders": list(holders), "ttl": ttl, "now": now}
        return int(self._request("POST", "/concurrency_slots/renew", json=body)["renewed"])

    def release_concurrency_slots(self, holder: str) -> int:
        body = {"holder": holder}
        return int(self._request("POST", "/concurrency_slots/release", json=body)["released"])

    def _get_or_none_params(self, path: str, params: Mapping[str, Any]) -> Any:
        from cadenza.exceptions import ObjectNotFound

        try:
            return self._request("GET", path, params=params)
        except ObjectNotFound:
            return None
