"""The REST API, mounted under ``/api``: one router per resource.

Every route but ``/api/health`` requires the server's API key when it has one. Every
route refuses query parameters it does not know.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from cadenza.server.api import (
    actions,
    artifacts,
    automations,
    channels,
    concurrency_limits,
    deployments,
    events,
    experiments,
    flow_runs,
    flows,
    health,
    logged_models,
    logs,
    model_versions,
    notifications,
    registered_models,
    run_artifacts,
    scheduled_runs,
    stats,
    task_runs,
    tracked_runs,
    work_pools,
    workers,
)
from cadenza.server.api.deps import check_api_key, reject_unknown_query_params
from cadenza.server.api.errors import responses


def build_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(reject_unknown_query_params)])
    router.include_router(health.router)
    protected = APIRouter(dependencies=[Depends(check_api_key)], responses=responses(401))
    # stats before flow_runs: "/flow_runs/stats" is not the flow run of id "stats".
    modules = (stats, scheduled_runs, flow_runs, task_runs, logs, artifacts, flows, actions)
    tracking = (experiments, tracked_runs, run_artifacts)
    registry = (registered_models, model_versions, logged_models)
    work = (deployments, work_pools, workers, concurrency_limits)
    for module in (*modules, events, *work, *tracking, *registry):
        protected.include_router(module.router)
    for module in (channels, automations, notifications):
        protected.include_router(module.router)
    router.include_router(protected)
    return router
