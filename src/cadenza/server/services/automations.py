"""The server's notification services: evaluating automations and delivering the outbox.

:class:`AutomationsService` follows flow-run state changes with a durable cursor: a
watermark on the timestamp of the runs' current state (``flow_runs.state_timestamp``,
indexed). Each round it reads the runs whose state is newer than the cursor minus
a margin (``margin``, for states written a little after they happened: a busy
database, a client's batch in flight), evaluates the enabled automations for the
new states of each, queues the messages, and moves the cursor up to the newest
state seen, but never past the server's own clock (a client whose clock is ahead
cannot make the cursor skip others' runs). A run is evaluated again only when its
state timestamp changed; a transition evaluated twice (after a restart, within the
margin) is queued once, by the outbox's key.

States that arrive later than the margin (a client that buffered its events while
the server was down, or whose clock is behind) are older than the cursor: the
events endpoint marks their runs (:func:`note_ingested`), and the next round
evaluates those runs from the oldest state of the late batch.

:class:`DeliveryService` sends what is due, apart from the evaluation, so that a
slow or failing channel does not hold up the others' messages being queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from cadenza.events import Event, FlowRunCreated, FlowRunStateChanged
from cadenza.notify.automations import NotCompletedTrigger

logger = logging.getLogger("cadenza.server.services")

CURSOR = "automations"
MARGIN = 60.0
"""Seconds before the cursor a round reads again."""
PAGE = 500

_wakers: dict[int, Callable[[], None]] = {}


class AutomationsService:
    """Evaluates the automations for every flow run whose state changes.

    Args:
        interval: seconds between two rounds.
        margin: seconds before the cursor each round reads again.
        clock: the time (seconds since the epoch); tests pass their own.
    """

    name = "automations"

    def __init__(
        self,
        interval: float = 1.0,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval
        self.margin = margin
        self.clock = clock
        self._seen: dict[str, float] = {}
        """State timestamp each run had when it was last evaluated."""

    async def run(self, app: Any) -> None:
        while True:
            store = app.state.store
            if store is not None and hasattr(store, "changed_flow_runs"):
                queued = await asyncio.to_thread(self.step, store)
                if queued:
                    wake_delivery(store)
            await asyncio.sleep(self.interval)

    def step(self, store: Any) -> int:
        """One round: evaluate what changed and what was marked; returns how many
        messages were queued."""
        now = self.clock()
        automations = store.list_automations(enabled_only=True)
        cursor = store.read_cursor(CURSOR)
        if not automations:
            # Nothing to evaluate: start from now when an automation is created.
            store.write_cursor(CURSOR, now)
            self._seen.clear()
            return 0
        if cursor is None:
            cursor = now
        since = cursor - self.margin
        queued = 0
        newest = cursor
        after: tuple[float, str] | None = None
        while True:
            changed = store.changed_flow_runs(since, after=after, limit=PAGE)
            messages: list[Any] = []
            for run_id, timestamp in changed:
                if self._seen.get(run_id) != timestamp:
                    previous = self._seen.get(run_id)
                    messages += self._evaluate(
                        store, run_id, since if previous is None else previous, automations
                    )
                newest = max(newest, timestamp)
            queued += len(store.enqueue(messages)) if messages else 0
            for run_id, timestamp in changed:  # evaluated, and what it sends queued
                self._seen[run_id] = timestamp
            if len(changed) < PAGE:
                break
            after = changed[-1][1], changed[-1][0]
        for automation in automations:
            if isinstance(automation.trigger, NotCompletedTrigger):
                queued += self._not_completed(store, automation, now)
        marks = store.marked_runs(PAGE)
        messages = []
        for run_id, (mark_since, _version) in marks.items():
            messages += self._evaluate(store, run_id, mark_since, automations, inclusive=True)
        queued += len(store.enqueue(messages)) if messages else 0
        store.unmark_runs(marks)
        position = min(newest, now)
        if position > cursor:
            store.write_cursor(CURSOR, position)
        floor = position - 2 * self.margin
        for run_id in [r for r, ts in self._seen.items() if ts < floor]:
            del self._seen[run_id]
        return queued

    def _not_completed(self, store: Any, automation: Any, now: float) -> int:
        """Queue the messages of a proactive automation for the scheduled runs whose
        deadline passed since the last round (from its creation on)."""
        from cadenza.notify.evaluate import plan_not_completed

        name = f"not-completed:{automation.id}"
        until = now - automation.trigger.within
        after = store.read_cursor(name)
        if after is None:
            after = min(until, (automation.created or now) - automation.trigger.within)
        queued = 0
        while after < until:
            runs = store.overdue_flow_runs(after, until, limit=PAGE)
            messages = plan_not_completed(store, automation, runs, now=now)
            queued += len(store.enqueue(messages)) if messages else 0
            after = until if len(runs) < PAGE else runs[-1].expected_start_time or until
        store.write_cursor(name, after)
        return queued

    def _evaluate(
        self,
        store: Any,
        run_id: str,
        after: float,
        automations: Sequence[Any],
        *,
        inclusive: bool = False,
    ) -> list[Any]:
        """The messages for the states of a run newer than ``after``."""
        from cadenza.notify.evaluate import plan_automations

        run = store.read_flow_run(run_id)
        if run is None:
            return []
        states = [
            s
            for s in run.history or ()
            if s.timestamp > after or (inclusive and s.timestamp == after)
        ]
        if not states:
            return []
        return plan_automations(store, run, states, automations, now=self.clock())


class DeliveryService:
    """Delivers the outbox's due messages, with retries and backoff.

    Args:
        interval: seconds between two looks at the outbox when nothing woke it.
    """

    name = "notifications"

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval

    async def run(self, app: Any) -> None:
        from cadenza.notify.delivery import Sender

        wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        store = app.state.store
        key = id(store)

        def waker() -> None:
            loop.call_soon_threadsafe(wake.set)

        _wakers[key] = waker
        try:
            while True:
                store = app.state.store
                if store is not None and hasattr(store, "claim_due"):
                    sender = Sender(store)
                    await asyncio.to_thread(sender.deliver_due, limit=200)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.interval)
        finally:
            _wakers.pop(key, None)


def wake_delivery(store: Any) -> None:
    """Ask the delivery service of ``store`` to look at the outbox now."""
    waker = _wakers.get(id(store))
    if waker is not None:
        with contextlib.suppress(RuntimeError):  # the loop is closing
            waker()


def note_ingested(store: Any, events: Sequence[Event]) -> None:
    """Mark the flow runs of a batch whose states are older than the cursor (a client
    that reported late), for the automations service to evaluate them again.
    Called by ``POST /api/events`` after the batch is recorded; never raises."""
    try:
        _note_ingested(store, events)
    except Exception:
        logger.exception("Could not mark the late runs of a batch for the automations.")


def _note_ingested(store: Any, events: Sequence[Event]) -> None:
    oldest: dict[str, float] = {}
    for ev in events:
        if type(ev) is FlowRunStateChanged:
            run_id, ts = ev.run_id, ev.state.timestamp
        elif type(ev) is FlowRunCreated and ev.state is not None:
            run_id, ts = ev.run.id, ev.state.timestamp
        else:
            continue
        if ts < oldest.get(run_id, float("inf")):
            oldest[run_id] = ts
    if not oldest or not hasattr(store, "mark_runs"):
        return
    from cadenza.notify.runtime import has_enabled_automations

    if not has_enabled_automations(store):
        return
    cursor = store.read_cursor(CURSOR)
    if cursor is None:
        return
    late = {run_id: ts for run_id, ts in oldest.items() if ts < cursor}
    if late:
        store.mark_runs(late)


def services() -> list[Any]:
    """The notification services a server runs."""
    return [AutomationsService(), DeliveryService()]
