"""Concurrency limits by tag for task runs, across processes.

``cadenza concurrency-limit create gpu 2``: at most two task runs tagged ``gpu`` run
at once, in every process that records to the same store (the database, or the
server). A task run with a limited tag takes a slot of each of its limited tags
before it runs (waiting while a limit is full) and frees them when it ends; a
process renews the slots it holds every ``CADENZA_HEARTBEAT_INTERVAL``, so the
slots of a process that died expire after ``CADENZA_HEARTBEAT_TIMEOUT``.

The task engine reads the limits once per flow run, on its first task run with a
tag; task runs without tags, or whose tags have no limit, never touch the store.
A tag with a limit of 0 fails its task runs at once (waiting would never end).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import ConcurrencyLimitError, ConcurrencyLimitNotFound

if TYPE_CHECKING:
    from cadenza.context import FlowRunContext
    from cadenza.store.deploy_base import DeploymentStore

logger = logging.getLogger("cadenza.task_runs")

_FIRST_PAUSE = 0.05
_MAX_PAUSE = 1.0
"""Seconds between two attempts to take a slot, growing from the first to the most."""


def limit_not_found(store: DeploymentStore, tag: str) -> ConcurrencyLimitNotFound:
    """The error for a tag without a limit, listing the tags that have one."""
    tags = [x.tag for x in store.list_concurrency_limits()]
    listed = ", ".join(tags[:20]) + (" ..." if len(tags) > 20 else "") if tags else "none yet"
    return ConcurrencyLimitNotFound(
        f"Tag {tag!r} has no concurrency limit. Tags with one: {listed}. "
        f"Set one with `cadenza concurrency-limit create {tag} N`."
    )


def _store() -> DeploymentStore:
    from cadenza.client import get_deployment_store

    return get_deployment_store()


def load_limits() -> dict[str, int]:
    """The limits by tag, from the store of the settings; none when the store cannot be
    read (logged: the task runs are not held back then)."""
    try:
        return {x.tag: x.limit for x in _store().list_concurrency_limits()}
    except Exception as exc:
        logger.warning("Could not read the concurrency limits (%s); not applying them.", exc)
        return {}


def limited_tags(tags: Collection[str], flow_ctx: FlowRunContext | None) -> dict[str, int]:
    """The tags of ``tags`` that have a limit, with their limits; read once per flow run
    (kept on its context), every time outside a flow run."""
    limits = None if flow_ctx is None else flow_ctx.concurrency_limits
    if limits is None:
        limits = load_limits()
        if flow_ctx is not None:
            flow_ctx.concurrency_limits = limits
    if not limits:
        return {}
    return {t: limits[t] for t in tags if t in limits}


class _Keeper:
    """Renews the slots this process holds, from one background thread."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, holder: str) -> None:
        with self._lock:
            self._held.add(holder)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._renew_loop, name="cadenza-concurrency-slots", daemon=True
                )
                self._thread.start()

    def drop(self, holder: str) -> None:
        with self._lock:
            self._held.discard(holder)

    def _renew_loop(self) -> None:
        from cadenza.settings import get_settings

        while True:
            settings = get_settings()
            time.sleep(settings.heartbeat_interval)
            with self._lock:
                held = list(self._held)
                if not held:
                    self._thread = None
                    return
            try:
                _store().renew_concurrency_slots(held, ttl=settings.heartbeat_timeout)
            except Exception as exc:
                logger.warning("Could not renew the concurrency slots of this process: %s", exc)


_keeper = _Keeper()


def _check_zero(limits: dict[str, int], name: str) -> None:
    zero = sorted(t for t, n in limits.items() if n == 0)
    if zero:
        raise ConcurrencyLimitError(
            f"Task run {name!r} cannot run: tag {zero[0]!r} has a concurrency limit of 0. "
            f"Raise it with `cadenza concurrency-limit create {zero[0]} N`, or delete it."
        )


def _try_take(tags: list[str], holder: str) -> bool:
    from cadenza.settings import get_settings

    try:
        return _store().acquire_concurrency_slots(
            tags, holder, ttl=get_settings().heartbeat_timeout
        )
    except Exception as exc:  # the store is unreachable for now: wait and try again
        logger.warning("Could not take a concurrency slot (%s); trying again.", exc)
        return False


def _waiting(limits: dict[str, int], name: str, extra: dict[str, Any] | None) -> None:
    described = ", ".join(f"{t!r} (limit {n})" for t, n in sorted(limits.items()))
    logger.info("Waiting for a concurrency slot of %s.", described, extra=extra)


def take(
    limits: dict[str, int], holder: str, name: str, extra: dict[str, Any] | None = None
) -> None:
    """Take a slot of each limit of ``limits`` (tag to limit) for the task run
    ``holder`` (named ``name``), waiting while one is full (logged once, with
    ``extra``); free them with :func:`release`.

    Raises:
        ConcurrencyLimitError: a limit is 0.
    """
    _check_zero(limits, name)
    tags = sorted(limits)
    pause = _FIRST_PAUSE
    if not _try_take(tags, holder):
        _waiting(limits, name, extra)
        while not _try_take(tags, holder):
            time.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE)
    _keeper.hold(holder)


async def take_async(
    limits: dict[str, int], holder: str, name: str, extra: dict[str, Any] | None = None
) -> None:
    """Take a slot of each limit for ``holder``, waiting without blocking the event loop;
    free them with :func:`release`.

    Raises:
        ConcurrencyLimitError: a limit is 0.
    """
    import asyncio

    _check_zero(limits, name)
    tags = sorted(limits)
    pause = _FIRST_PAUSE
    if not await asyncio.to_thread(_try_take, tags, holder):
        _waiting(limits, name, extra)
        while not await asyncio.to_thread(_try_take, tags, holder):
            await asyncio.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE)
    _keeper.hold(holder)


def release(holder: str) -> None:
    """Free the slots of the task run ``holder`` (a failure is logged: they expire)."""
    _keeper.drop(holder)
    try:
        _store().release_concurrency_slots(holder)
    except Exception as exc:
        logger.warning(
            "Could not free the concurrency slots of task run %s (%s); they expire.", holder, exc
        )
