"""Work pools and their queues: where the runs of deployments wait for a worker.

A worker polls one pool and takes its due runs queue by queue, in priority order
(priority 1 first). Every pool has a queue named ``default``.
"""

from __future__ import annotations

import dataclasses

DEFAULT_QUEUE = "default"
"""The queue every work pool has, and where deployments send their runs by default."""


@dataclasses.dataclass(slots=True)
class WorkPool:
    """A named group of workers and the runs waiting for them.

    ``concurrency_limit`` bounds how many of the pool's runs are active (Pending,
    Running or Cancelling) at once; None for no bound. A paused pool gives no runs
    to its workers.
    """

    name: str
    description: str | None = None
    paused: bool = False
    concurrency_limit: int | None = None
    created: float = 0.0


@dataclasses.dataclass(slots=True)
class WorkQueue:
    """A queue of a work pool, with its priority (lower first) and its own limit."""

    pool_name: str
    name: str
    priority: int = 1
    concurrency_limit: int | None = None
    paused: bool = False
    description: str | None = None
    created: float = 0.0


def check_limit(value: int | None, what: str) -> None:
    """Raise unless ``value`` is None or a whole number of 0 or more.

    Raises:
        DeploymentError: naming ``what``.
    """
    from cadenza.exceptions import DeploymentError

    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DeploymentError(
            f"The concurrency limit of {what} must be a whole number of 0 or more "
            f"(or none for no limit), got {value!r}."
        )


def check_name(name: str, what: str) -> None:
    """Raise unless ``name`` is a usable name: not empty, no ``/``, at most 255 characters.

    Raises:
        DeploymentError: naming ``what``.
    """
    from cadenza.exceptions import DeploymentError

    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise DeploymentError(
            f"The name of {what} must be a non-empty text without spaces around it, got {name!r}."
        )
    if "/" in name or len(name) > 255:
        raise DeploymentError(
            f"The name of {what} must have at most 255 characters and no '/', got {name!r}."
        )


def check_pool(pool: WorkPool) -> None:
    """Raise :class:`~cadenza.exceptions.DeploymentError` for an invalid pool."""
    check_name(pool.name, "a work pool")
    check_limit(pool.concurrency_limit, f"work pool {pool.name!r}")


def check_queue(queue: WorkQueue) -> None:
    """Raise :class:`~cadenza.exceptions.DeploymentError` for an invalid queue."""
    check_name(queue.name, "a work queue")
    check_limit(queue.concurrency_limit, f"work queue {queue.name!r}")
    check_priority(queue.priority)


def check_priority(priority: int) -> None:
    """Raise :class:`~cadenza.exceptions.DeploymentError` unless ``priority`` is 1 or more."""
    from cadenza.exceptions import DeploymentError

    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 1:
        raise DeploymentError(
            f"A work queue's priority is a whole number from 1 (taken first), got {priority!r}."
        )
