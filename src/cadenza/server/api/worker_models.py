"""The bodies of the worker and concurrency limit routes, as pydantic models (for the
OpenAPI document and for checking requests). Responses are the JSON forms of
:mod:`cadenza.deploy.records`."""

from __future__ import annotations

from pydantic import Field

from cadenza.server.api.deploy_models import Strict
from cadenza.store.worker_base import MAX_CLAIM_WAIT


class HeartbeatBody(Strict):
    """A worker saying it is alive: who it is and where it runs."""

    name: str = Field(min_length=1, max_length=255)
    pool_name: str = Field(min_length=1, max_length=255)
    hostname: str | None = None
    pid: int | None = None
    started_epoch: float | None = None
    flow_run_ids: list[str] = Field(default_factory=list)
    """The runs the worker is running (claimed and not finished)."""
    now: float | None = None


class WaitingClaimBody(Strict):
    """A worker asking for up to ``limit`` due runs, waiting up to ``wait`` seconds."""

    worker_id: str = Field(min_length=1, max_length=64)
    limit: int = Field(ge=0, le=1000)
    wait: float = Field(ge=0, le=MAX_CLAIM_WAIT)
    queues: list[str] | None = None


class ReleaseBody(Strict):
    """A worker handing a run it claimed back to its pool."""

    worker_id: str = Field(min_length=1, max_length=64)
    message: str = Field(max_length=2000)
    now: float | None = None


class LimitBody(Strict):
    limit: int = Field(ge=0)
    now: float | None = None


class AcquireBody(Strict):
    tags: list[str]
    holder: str = Field(min_length=1, max_length=64)
    ttl: float = Field(gt=0)
    now: float | None = None


class RenewBody(Strict):
    holders: list[str]
    ttl: float = Field(gt=0)
    now: float | None = None


class ReleaseSlotsBody(Strict):
    holder: str = Field(min_length=1, max_length=64)
