"""Records of workers and of concurrency limits by tag, as the store keeps them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(slots=True)
class WorkerRecord:
    """A worker polling a work pool, as its heartbeats describe it.

    A worker is online while its ``last_heartbeat`` is more recent than the heartbeat
    timeout (``CADENZA_HEARTBEAT_TIMEOUT``); the monitor crashes the runs of a worker
    that stays silent longer.
    """

    id: str
    name: str
    pool_name: str
    hostname: str | None = None
    pid: int | None = None
    started: float = 0.0
    last_heartbeat: float = 0.0

    def is_online(self, now: float, timeout: float) -> bool:
        """Whether the worker sent a heartbeat within ``timeout`` seconds of ``now``."""
        return now - self.last_heartbeat <= timeout


@dataclasses.dataclass(slots=True)
class ConcurrencySlot:
    """A slot of a concurrency limit held by a task run until it ends, or until
    ``expires`` if its process dies without releasing it (holders renew their slots
    while they run)."""

    holder: str
    """The id of the task run holding the slot."""
    acquired: float
    expires: float


@dataclasses.dataclass(slots=True)
class ConcurrencyLimit:
    """At most ``limit`` task runs with ``tag`` run at once, across every process that
    records runs to the same store."""

    tag: str
    limit: int
    created: float = 0.0
    slots: list[ConcurrencySlot] = dataclasses.field(default_factory=list)
    """The slots held now (not expired), oldest first."""

    @property
    def active(self) -> int:
        """How many slots are held."""
        return len(self.slots)


def check_concurrency_limit(tag: str, limit: int) -> None:
    """Raise unless ``tag`` is a usable tag and ``limit`` a whole number of 0 or more.

    Raises:
        ConcurrencyLimitError: naming what is wrong.
    """
    from cadenza.exceptions import ConcurrencyLimitError

    if not isinstance(tag, str) or not tag.strip() or len(tag) > 255:
        raise ConcurrencyLimitError(
            f"A concurrency limit needs a tag of 1 to 255 characters, got {tag!r}."
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ConcurrencyLimitError(
            f"The concurrency limit of tag {tag!r} must be a whole number of 0 or more "
            f"(0 stops its task runs from running), got {limit!r}."
        )


# -- JSON forms (``--json``, the REST API and its client) ------------------------------------
def _times(key: str, ts: float | None) -> dict[str, Any]:
    from cadenza.utilities.formatting import iso_utc

    return {key: iso_utc(ts), f"{key}_epoch": ts}


def worker_json(
    w: WorkerRecord, now: float | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """The JSON form of a worker; with ``now`` and ``timeout``, whether it is online."""
    out: dict[str, Any] = {
        "id": w.id,
        "name": w.name,
        "pool_name": w.pool_name,
        "hostname": w.hostname,
        "pid": w.pid,
        **_times("started", w.started),
        **_times("last_heartbeat", w.last_heartbeat),
    }
    if now is not None and timeout is not None:
        out["online"] = w.is_online(now, timeout)
    return out


def worker_from_json(d: Mapping[str, Any]) -> WorkerRecord:
    return WorkerRecord(
        id=d["id"],
        name=d["name"],
        pool_name=d["pool_name"],
        hostname=d.get("hostname"),
        pid=d.get("pid"),
        started=d.get("started_epoch") or 0.0,
        last_heartbeat=d.get("last_heartbeat_epoch") or 0.0,
    )


def limit_json(x: ConcurrencyLimit) -> dict[str, Any]:
    """The JSON form of a concurrency limit and its slots."""
    return {
        "tag": x.tag,
        "limit": x.limit,
        "active": x.active,
        **_times("created", x.created),
        "slots": [
            {"holder": s.holder, **_times("acquired", s.acquired), **_times("expires", s.expires)}
            for s in x.slots
        ],
    }


def limit_from_json(d: Mapping[str, Any]) -> ConcurrencyLimit:
    return ConcurrencyLimit(
        tag=d["tag"],
        limit=d["limit"],
        created=d.get("created_epoch") or 0.0,
        slots=[
            ConcurrencySlot(s["holder"], s["acquired_epoch"], s["expires_epoch"])
            for s in d.get("slots") or ()
        ],
    )
