"""Deployments: a flow's entrypoint with its parameters, work pool and schedules."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from cadenza.deploy.pools import DEFAULT_QUEUE
from cadenza.deploy.schedules import Schedule

CatchUp = Literal["all", "latest", "skip"]
CATCHUP_POLICIES: tuple[str, ...] = ("all", "latest", "skip")
"""What happens to runs that missed their time (Late runs) when workers come back:
``all`` runs every one of them, ``latest`` only the most recent of a deployment (the
others end Skipped), ``skip`` none of them (they end Skipped)."""


@dataclasses.dataclass(slots=True)
class DeploymentSchedule:
    """One schedule of a deployment, which the scheduler follows while it is active."""

    schedule: Schedule
    active: bool = True
    id: str | None = None
    """Given by the store."""


@dataclasses.dataclass(slots=True)
class Deployment:
    """A flow made to run by itself: where its code is, with which parameters, on
    which work pool, and when.

    ``parameter_schema`` is the JSON schema of the flow's parameters (built from its
    signature when the deployment is made): runs are checked against it before they
    are created, and the UI builds its form from it.
    """

    flow_name: str
    name: str
    entrypoint: str
    """``path/to/file.py:function`` (relative to ``path``) or ``module:function``."""
    work_pool_name: str
    work_queue_name: str = DEFAULT_QUEUE
    path: str | None = None
    """The folder the flow runs in; None for the worker's own folder."""
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Default parameters of its runs (a run's own parameters take precedence)."""
    parameter_schema: dict[str, Any] = dataclasses.field(default_factory=dict)
    tags: list[str] = dataclasses.field(default_factory=list)
    description: str | None = None
    version: str | None = None
    """The code version (the flow's version, or a hash of its file)."""
    paused: bool = False
    """A paused deployment's schedules create no runs."""
    concurrency_limit: int | None = None
    """How many of its runs may be active at once (None: no bound)."""
    catchup: str = "all"
    """See :data:`CATCHUP_POLICIES`."""
    flow_retries: int = 0
    """How many times a crashed run is run again (the flow's ``retries``)."""
    schedules: list[DeploymentSchedule] = dataclasses.field(default_factory=list)
    id: str | None = None
    """Given by the store."""
    created: float = 0.0
    updated: float = 0.0

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, as the command line names it."""
        return f"{self.flow_name}/{self.name}"


def check_deployment(deployment: Deployment) -> None:
    """Raise :class:`~cadenza.exceptions.DeploymentError` naming the first invalid field."""
    from cadenza.deploy.pools import check_limit, check_name
    from cadenza.exceptions import DeploymentError

    d = deployment
    check_name(d.name, "a deployment")
    if not d.flow_name:
        raise DeploymentError("A deployment needs the name of its flow.")
    if not d.entrypoint or ":" not in d.entrypoint:
        raise DeploymentError(
            f"Deployment {d.name!r}: the entrypoint {d.entrypoint!r} is not of the form "
            "'path/to/file.py:function' or 'module:function'."
        )
    if not d.work_pool_name:
        raise DeploymentError(f"Deployment {d.name!r} needs a work pool (--pool NAME).")
    check_limit(d.concurrency_limit, f"deployment {d.name!r}")
    if d.catchup not in CATCHUP_POLICIES:
        raise DeploymentError(
            f"Deployment {d.name!r}: the catch-up policy {d.catchup!r} is not one of "
            f"{', '.join(CATCHUP_POLICIES)}."
        )
    if (
        isinstance(d.flow_retries, bool)
        or not isinstance(d.flow_retries, int)
        or d.flow_retries < 0
    ):
        raise DeploymentError(
            f"Deployment {d.name!r}: flow_retries must be 0 or more, got {d.flow_retries!r}."
        )
    if not isinstance(d.parameters, dict):
        raise DeploymentError(
            f"Deployment {d.name!r}: parameters must be a mapping, got {d.parameters!r}."
        )
