"""The JSON form of deployments, work pools and queues, for ``--json``, the REST API
and its client (every time given as ISO-8601 in UTC and as epoch seconds)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cadenza.deploy.deployments import Deployment, DeploymentSchedule
from cadenza.deploy.pools import WorkPool, WorkQueue
from cadenza.deploy.schedules import schedule_from_dict
from cadenza.utilities.formatting import iso_utc


def _times(key: str, ts: float | None) -> dict[str, Any]:
    return {key: iso_utc(ts), f"{key}_epoch": ts}


def schedule_json(s: DeploymentSchedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.schedule.kind,
        **s.schedule.to_dict(),
        "active": s.active,
        "description": s.schedule.describe(),
    }


def schedule_from_json(d: Mapping[str, Any]) -> DeploymentSchedule:
    """Raises :class:`~cadenza.exceptions.ScheduleError` for an invalid schedule."""
    body = {
        k: v
        for k, v in d.items()
        if k not in ("id", "kind", "description") and (v is not None or k == "active")
    }
    schedule, active = schedule_from_dict(body)
    return DeploymentSchedule(schedule, active=active, id=d.get("id"))


def deployment_json(d: Deployment) -> dict[str, Any]:
    return {
        "id": d.id,
        "flow_name": d.flow_name,
        "name": d.name,
        "full_name": d.full_name,
        "entrypoint": d.entrypoint,
        "path": d.path,
        "work_pool_name": d.work_pool_name,
        "work_queue_name": d.work_queue_name,
        "parameters": d.parameters,
        "parameter_schema": d.parameter_schema,
        "tags": list(d.tags),
        "description": d.description,
        "version": d.version,
        "paused": d.paused,
        "concurrency_limit": d.concurrency_limit,
        "catchup": d.catchup,
        "flow_retries": d.flow_retries,
        "schedules": [schedule_json(s) for s in d.schedules],
        **_times("created", d.created),
        **_times("updated", d.updated),
    }


def deployment_from_json(d: Mapping[str, Any]) -> Deployment:
    """Raises :class:`~cadenza.exceptions.ScheduleError` or ``KeyError``/``TypeError``
    for a malformed body."""
    return Deployment(
        id=d.get("id"),
        flow_name=d["flow_name"],
        name=d["name"],
        entrypoint=d["entrypoint"],
        path=d.get("path"),
        work_pool_name=d["work_pool_name"],
        work_queue_name=d.get("work_queue_name") or "default",
        parameters=dict(d.get("parameters") or {}),
        parameter_schema=dict(d.get("parameter_schema") or {}),
        tags=list(d.get("tags") or []),
        description=d.get("description"),
        version=d.get("version"),
        paused=bool(d.get("paused", False)),
        concurrency_limit=d.get("concurrency_limit"),
        catchup=d.get("catchup") or "all",
        flow_retries=d.get("flow_retries") or 0,
        schedules=[schedule_from_json(s) for s in d.get("schedules") or []],
        created=d.get("created_epoch") or 0.0,
        updated=d.get("updated_epoch") or 0.0,
    )


def pool_json(p: WorkPool) -> dict[str, Any]:
    return {
        "name": p.name,
        "description": p.description,
        "paused": p.paused,
        "concurrency_limit": p.concurrency_limit,
        **_times("created", p.created),
    }


def pool_from_json(d: Mapping[str, Any]) -> WorkPool:
    return WorkPool(
        name=d["name"],
        description=d.get("description"),
        paused=bool(d.get("paused", False)),
        concurrency_limit=d.get("concurrency_limit"),
        created=d.get("created_epoch") or 0.0,
    )


def queue_json(q: WorkQueue) -> dict[str, Any]:
    return {
        "pool_name": q.pool_name,
        "name": q.name,
        "priority": q.priority,
        "concurrency_limit": q.concurrency_limit,
        "paused": q.paused,
        "description": q.description,
        **_times("created", q.created),
    }


def queue_from_json(d: Mapping[str, Any]) -> WorkQueue:
    return WorkQueue(
        pool_name=d["pool_name"],
        name=d["name"],
        priority=d.get("priority", 1),
        concurrency_limit=d.get("concurrency_limit"),
        paused=bool(d.get("paused", False)),
        description=d.get("description"),
        created=d.get("created_epoch") or 0.0,
    )
