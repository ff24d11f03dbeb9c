"""``flow.serve(...)``: deploy a flow and run its runs in this process's own worker.

A long-lived process that needs no separate worker: it saves the deployment (as
``flow.deploy`` does) on the work pool ``serve``, in a queue of its own named
``FLOW:NAME``, then runs a :class:`~cadenza.deploy.worker.Worker` of that queue only,
so that it runs the runs of this deployment and no other. On the embedded store that
worker also runs the scheduler and the crash monitor; with ``CADENZA_API_URL`` set,
the server's scheduler creates the runs and this process claims them. Each run
executes in a subprocess, as on any worker; Ctrl-C stops serving (the runs in
progress finish first, as for a worker). The deployment and its scheduled runs
stay: serving again picks them up, with its catch-up policy for the runs missed.
"""

from __future__ import annotations

import logging
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadenza.deploy.deployments import Deployment
    from cadenza.flows import Flow
    from cadenza.settings import Settings
    from cadenza.store.deploy_base import DeploymentStore

logger = logging.getLogger("cadenza.deploy")

SERVE_POOL = "serve"
"""The work pool of served deployments (created on first use)."""


def serve_queue_name(flow_name: str, name: str) -> str:
    """The queue of the pool ``serve`` that holds the runs of one served deployment."""
    return f"{flow_name}:{name}"


def prepare(
    flow: Flow[Any, Any], name: str, *, store: DeploymentStore, **options: Any
) -> Deployment:
    """Save the served deployment of ``flow`` (its pool and queue created when missing)
    and create its first scheduled runs; returns it. ``options`` are those of
    :meth:`Flow.deploy <cadenza.flows.Flow.deploy>` but the pool, queue, entrypoint
    and folder (schedules, parameters, tags, description, version, paused, catchup).

    Raises:
        DeploymentError, ScheduleError, ParameterTypeError: an invalid option, before
            anything is saved.
    """
    from cadenza.deploy.deployments import deployment_from_options, save_and_schedule
    from cadenza.deploy.pools import WorkPool, WorkQueue
    from cadenza.exceptions import ObjectAlreadyExists

    queue = serve_queue_name(flow.name, name)
    deployment = deployment_from_options(
        flow, name, work_pool_name=SERVE_POOL, work_queue_name=queue, **options
    )
    if store.read_work_pool(SERVE_POOL) is None:
        try:
            store.create_work_pool(
                WorkPool(SERVE_POOL, description="The runs of flows served with flow.serve().")
            )
        except ObjectAlreadyExists:  # created by another process meanwhile
            pass
    if store.read_work_queue(SERVE_POOL, queue) is None:
        try:
            store.create_work_queue(
                WorkQueue(
                    SERVE_POOL,
                    queue,
                    description=f"The runs of {flow.name}/{name}, served by flow.serve().",
                )
            )
        except ObjectAlreadyExists:
            pass
    return save_and_schedule(deployment, store)


def serve(
    flow: Flow[Any, Any],
    name: str,
    *,
    limit: int | None = None,
    store: DeploymentStore | None = None,
    settings: Settings | None = None,
    output: IO[str] | None = None,
    **options: Any,
) -> None:
    """Deploy ``flow`` as ``name`` and run its runs here until interrupted.

    ``options`` are those of :func:`prepare` (schedules, parameters, tags...);
    ``limit`` bounds how many of its runs this process runs at once.

    Raises:
        DeploymentError, ScheduleError, ParameterTypeError: an invalid option, before
            anything is saved.
    """
    from cadenza.deploy.worker import Worker
    from cadenza.logging.loggers import setup_logging

    setup_logging()
    if store is None:
        from cadenza.client import get_deployment_store

        store = get_deployment_store()
    deployment = prepare(flow, name, store=store, **options)
    schedules = "; ".join(s.schedule.describe() for s in deployment.schedules) or "no schedule"
    logger.info(
        "Serving %s (%s). Run it now with `cadenza deployment run %s`; Ctrl-C stops.",
        deployment.full_name,
        schedules,
        deployment.full_name,
    )
    Worker(
        SERVE_POOL,
        queues=[deployment.work_queue_name],
        limit=limit,
        name=f"serve {deployment.full_name}",
        store=store,
        settings=settings,
        output=output,
    ).start()
