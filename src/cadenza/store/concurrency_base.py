"""The concurrency limit store interface: limits by tag, and the slots task runs hold.

A task run with a tag that has a limit holds one slot of that limit while it runs.
Slots are rows, taken in a transaction that counts the live ones, so a limit holds
across every process recording to the same store (a database, or a server). A slot
whose holder died without releasing it expires: holders renew theirs while they run.

Part of :class:`~cadenza.store.deploy_base.DeploymentStore`; implemented by the SQL
store (:mod:`cadenza.store.concurrency_sql`) and the server-backed store. Times are
seconds since the epoch; ``now`` None means the current time.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza.deploy.records import ConcurrencyLimit


class ConcurrencyLimitStore(abc.ABC):
    """Concurrency limits by tag and their slots."""

    @abc.abstractmethod
    def set_concurrency_limit(
        self, tag: str, limit: int, *, now: float | None = None
    ) -> ConcurrencyLimit:
        """Create the limit of ``tag``, or change it; returns it with its live slots.

        Lowering a limit below the number of slots held stops no task run: new ones
        wait until enough slots are released.

        Raises:
            ConcurrencyLimitError: the tag is empty or the limit negative.
        """

    @abc.abstractmethod
    def read_concurrency_limit(
        self, tag: str, *, now: float | None = None
    ) -> ConcurrencyLimit | None:
        """The limit of ``tag`` with its slots live at ``now``, or None if the tag has
        no limit."""

    @abc.abstractmethod
    def list_concurrency_limits(self, *, now: float | None = None) -> list[ConcurrencyLimit]:
        """Every limit, by tag, with its slots live at ``now``; an empty list when there
        is none."""

    @abc.abstractmethod
    def delete_concurrency_limit(self, tag: str) -> bool:
        """Remove the limit of ``tag`` and its slots (waiting task runs then run).
        Returns False when the tag has no limit."""

    @abc.abstractmethod
    def acquire_concurrency_slots(
        self, tags: Collection[str], holder: str, *, ttl: float, now: float | None = None
    ) -> bool:
        """Take one slot of the limit of every tag in ``tags`` that has one, for
        ``holder`` (a task run id), all or none, in one transaction.

        A limit has room when fewer than ``limit`` slots that have not expired are
        held by others (a slot the holder has already counts as its own: taking it
        again renews it). Slots taken expire ``ttl`` seconds after ``now``; expired
        slots are removed on the way.

        Returns True when every slot was taken (also when no tag has a limit); False,
        with nothing taken, when one of the limits is full or is 0.
        """

    @abc.abstractmethod
    def renew_concurrency_slots(
        self, holders: Collection[str], *, ttl: float, now: float | None = None
    ) -> int:
        """Move the expiry of the live slots of ``holders`` to ``ttl`` seconds after
        ``now``; returns how many slots were renewed (0 for unknown holders). An
        expired slot is not renewed: its holder has lost it."""

    @abc.abstractmethod
    def release_concurrency_slots(self, holder: str) -> int:
        """Free every slot of ``holder``; returns how many it held (0 when none)."""
