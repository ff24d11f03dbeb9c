"""``/api/workers`` and the worker routes of work pools and flow runs: heartbeats, the
soonest due run of a pool, claiming with a long poll, handing a run back.

The long poll (``POST /api/work_pools/{name}/claim_waiting``) holds the request until a
run of the pool is due, up to ``wait`` seconds, looking at the database every
``CADENZA_WORKER_POLL_INTERVAL`` and at the soonest due run's time exactly, without
holding a thread while it waits: idle workers do not hammer the server, and a run
starts on one of them at its time.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from cadenza.deploy.records import WorkerRecord, worker_json
from cadenza.server.api.deployments import runs_json
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import not_found, responses
from cadenza.server.api.worker_models import HeartbeatBody, ReleaseBody, WaitingClaimBody
from cadenza.store.deploy_base import DeploymentStore
from cadenza.store.worker_sql import check_claimable, claim_step

router = APIRouter(tags=["workers"])


def _timeout() -> float:
    from cadenza.settings import get_settings

    return get_settings().heartbeat_timeout


@router.post("/workers/{worker_id}/heartbeat", responses=responses(400, 404))
def heartbeat(
    worker_id: str, body: HeartbeatBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Record that a worker and the runs it names are alive; registers it the first
    time. Answers the ids of those runs whose cancellation was requested
    (``cancelling``); 404 when its pool does not exist."""
    worker = WorkerRecord(
        worker_id,
        body.name,
        body.pool_name,
        hostname=body.hostname,
        pid=body.pid,
        started=body.started_epoch or 0.0,
    )
    cancelling = store.worker_heartbeat(worker, body.flow_run_ids, now=body.now)
    return JSONResponse({"cancelling": cancelling})


@router.get("/workers")
def list_workers(
    pool_name: str | None = Query(None, description="Only the workers of this pool."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """List workers by pool, most recent heartbeat first, each with ``online``: whether
    it sent a heartbeat within ``CADENZA_HEARTBEAT_TIMEOUT``."""
    now, timeout = time.time(), _timeout()
    found = store.list_workers(pool_name=pool_name)
    return JSONResponse({"items": [worker_json(w, now, timeout) for w in found]})


@router.get("/workers/{worker_id}", responses=responses(404))
def read_worker(worker_id: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """Read one worker."""
    found = store.read_worker(worker_id)
    if found is None:
        raise not_found("worker", worker_id)
    return JSONResponse(worker_json(found, time.time(), _timeout()))


@router.delete("/workers/{worker_id}")
def delete_worker(worker_id: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """Forget a worker that stopped; ``deleted`` is false when it was unknown."""
    return JSONResponse({"deleted": store.delete_worker(worker_id)})


@router.get("/work_pools/{name}/next_due")
def next_due(
    name: str,
    queue: list[str] | None = Query(None, description="Only runs of these queues."),
    store: DeploymentStore = Depends(get_store),
) -> Response:
    """When the soonest Scheduled run of the pool is due (``due_epoch``, null when it
    has none)."""
    return JSONResponse({"due_epoch": store.next_due_time(name, queues=queue)})


@router.post("/work_pools/{name}/claim_waiting", responses=responses(400, 404))
async def claim_waiting(
    name: str, body: WaitingClaimBody, request: Request, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Claim up to ``limit`` due runs of the pool for a worker, waiting up to ``wait``
    seconds (30 at most) for one to be due; answers the runs claimed (Pending, with the
    worker's id), or none when the wait ends first. 404 for an unknown pool or queue."""
    from cadenza.settings import get_settings

    await run_in_threadpool(check_claimable, store, name, body.queues)
    poll = get_settings().worker_poll_interval
    deadline = time.monotonic() + body.wait
    while True:
        if await request.is_disconnected():
            return JSONResponse(runs_json([]))
        runs, pause = await run_in_threadpool(
            claim_step, store, name, body.worker_id, body.limit, body.queues, poll
        )
        remaining = deadline - time.monotonic()
        if runs or remaining <= 0:
            return JSONResponse(runs_json(runs))
        await asyncio.sleep(min(pause, remaining))


@router.post("/flow_runs/{flow_run_id}/release", responses=responses(400))
def release_flow_run(
    flow_run_id: str, body: ReleaseBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Hand a run a worker claimed back to its pool (``released`` is false, and nothing
    changes, when the run is not that worker's or is in another state)."""
    released = store.release_flow_run(
        flow_run_id, body.worker_id, message=body.message, now=body.now
    )
    return JSONResponse({"released": released})
