"""``/api/work_pools``: work pools, their queues, and claiming due runs for a worker."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse, Response

from cadenza.deploy.pools import WorkPool, WorkQueue
from cadenza.deploy.serialize import pool_json, queue_json
from cadenza.server.api.deploy_models import (
    ClaimBody,
    PoolBody,
    PoolChanges,
    QueueBody,
    QueueChanges,
)
from cadenza.server.api.deployments import runs_json
from cadenza.server.api.deps import get_store
from cadenza.server.api.errors import ApiError, responses
from cadenza.store.deploy_base import UNSET, DeploymentStore

router = APIRouter(tags=["work pools"])


def _pool(store: DeploymentStore, name: str) -> WorkPool:
    found = store.read_work_pool(name)
    if found is None:
        names = ", ".join(p.name for p in store.list_work_pools()) or "none yet"
        raise ApiError("NOT_FOUND", f"There is no work pool {name!r}. Work pools: {names}.")
    return found


@router.get("/work_pools")
def list_work_pools(store: DeploymentStore = Depends(get_store)) -> Response:
    """List work pools by name."""
    return JSONResponse({"items": [pool_json(p) for p in store.list_work_pools()]})


@router.post("/work_pools", status_code=201, responses=responses(400, 409))
def create_work_pool(body: PoolBody, store: DeploymentStore = Depends(get_store)) -> Response:
    """Create a work pool and its ``default`` queue; 409 when the name is taken."""
    pool = store.create_work_pool(
        WorkPool(
            body.name,
            description=body.description,
            paused=body.paused,
            concurrency_limit=body.concurrency_limit,
        ),
        now=body.now,
    )
    return JSONResponse(pool_json(pool), status_code=201)


@router.get("/work_pools/{name}", responses=responses(404))
def read_work_pool(name: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """Read one work pool."""
    return JSONResponse(pool_json(_pool(store, name)))


@router.patch("/work_pools/{name}", responses=responses(400, 404))
def update_work_pool(
    name: str, body: PoolChanges, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Change the fields given in the body (``concurrency_limit: null`` removes the limit)."""
    given = body.model_fields_set
    pool = store.update_work_pool(
        name,
        description=body.description if "description" in given else UNSET,
        paused=bool(body.paused) if "paused" in given else UNSET,
        concurrency_limit=body.concurrency_limit if "concurrency_limit" in given else UNSET,
    )
    return JSONResponse(pool_json(pool))


@router.get("/work_pools/{name}/queues", responses=responses(404))
def list_work_queues(name: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """The queues of a pool in priority order (lower first)."""
    return JSONResponse({"items": [queue_json(q) for q in store.list_work_queues(name)]})


@router.post("/work_pools/{name}/queues", status_code=201, responses=responses(400, 404, 409))
def create_work_queue(
    name: str, body: QueueBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Create a queue in a pool; 409 when the pool has one of this name."""
    queue = store.create_work_queue(
        WorkQueue(
            name,
            body.name,
            priority=body.priority,
            concurrency_limit=body.concurrency_limit,
            paused=body.paused,
            description=body.description,
        ),
        now=body.now,
    )
    return JSONResponse(queue_json(queue), status_code=201)


@router.get("/work_pools/{name}/queues/{queue}", responses=responses(404))
def read_work_queue(name: str, queue: str, store: DeploymentStore = Depends(get_store)) -> Response:
    """Read one queue of a pool."""
    found = store.read_work_queue(name, queue)
    if found is None:
        _pool(store, name)
        raise ApiError("NOT_FOUND", f"Work pool {name!r} has no queue {queue!r}.")
    return JSONResponse(queue_json(found))


@router.patch("/work_pools/{name}/queues/{queue}", responses=responses(400, 404))
def update_work_queue(
    name: str, queue: str, body: QueueChanges, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Change the fields given in the body."""
    given = body.model_fields_set
    found = store.update_work_queue(
        name,
        queue,
        description=body.description if "description" in given else UNSET,
        priority=body.priority if "priority" in given and body.priority is not None else UNSET,
        paused=bool(body.paused) if "paused" in given else UNSET,
        concurrency_limit=body.concurrency_limit if "concurrency_limit" in given else UNSET,
    )
    return JSONResponse(queue_json(found))


@router.post("/work_pools/{name}/claim", responses=responses(400, 404))
def claim_flow_runs(
    name: str, body: ClaimBody, store: DeploymentStore = Depends(get_store)
) -> Response:
    """Claim up to ``limit`` due runs of the pool for a worker, atomically (see
    ``DeploymentStore.claim_flow_runs``): they become Pending with the worker's id."""
    claimed = store.claim_flow_runs(name, body.worker_id, body.limit, body.now, body.queues)
    return JSONResponse(runs_json(claimed))
