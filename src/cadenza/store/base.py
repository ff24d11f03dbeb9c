"""The run store interface.

One abstract class, one written contract per method. The SQL implementation
(:class:`cadenza.store.sql.SqlStore`) serves SQLite and PostgreSQL; the contract
tests in ``tests/store`` run against every backend.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from cadenza.events import Event
from cadenza.runs import Artifact, FlowRecord, FlowRun, LogEntry, TaskRun
from cadenza.states import State, StateType


@dataclass(slots=True)
class FlowRunFilter:
    """Which flow runs :meth:`RunStore.list_flow_runs` returns.

    Every field left at None does not filter; the fields given must all match, except
    ``state_types`` and ``state_names``, of which one is enough.
    """

    flow_name: str | None = None
    state_types: Sequence[StateType] | None = None
    """Runs whose current state has one of these types."""
    state_names: Sequence[str] | None = None
    """Runs whose current state has one of these names. Given with ``state_types``,
    runs matching either: ``state_types=[FAILED], state_names=["Cached"]`` finds the
    failed runs and the cached ones."""
    tags: Sequence[str] | None = None
    """Runs having all of these tags (compared exactly, case included)."""
    since: float | None = None
    """Runs created at or after this time (seconds since the epoch)."""
    until: float | None = None
    """Runs created before this time."""
    parent_flow_run_id: str | None = None
    top_level_only: bool = False
    """Only runs that are not subflow runs."""
    id_prefix: str | None = None
    ids: Sequence[str] | None = field(default=None)


class RunStore(abc.ABC):
    """Where flows, runs, their state histories and logs are kept."""

    # -- writing ---------------------------------------------------------------------
    @abc.abstractmethod
    def apply(self, events: Sequence[Event]) -> None:
        """Record a batch of events in one transaction.

        Events are applied in order. Creating a run that exists already, adding a
        state that the run's history holds already (same timestamp and name) and
        adding a log line that is recorded already do nothing, so a batch delivered
        twice, alone or at the start of a larger batch, is recorded once. A log line
        is recorded already when one with the same runs, level, logger name, message
        and timestamp is, unless the batch holds several such lines: those are
        counted, and each is kept. A state event for a run that is neither in the
        store nor created earlier in the batch is dropped, and so is the creation of
        a task run whose flow run is neither (with its states), so that one bad
        event cannot make a whole batch fail again and again. An artifact is recorded
        once per id, whether or not its runs are known. A
        :class:`~cadenza.events.FlowRunProcessChanged` sets the host name and process
        id of its flow run (the last one of the batch wins); for an unknown run it
        does nothing.

        Raises:
            StoreFullError: the disk is full; nothing of the batch was written.
            StoreError: the database could not be written; nothing of the batch
                was written.
        """

    @abc.abstractmethod
    def add_flow_run_state_if(
        self, flow_run_id: str, state: State, *, current: Collection[StateType]
    ) -> bool:
        """Add ``state`` to a flow run's history if its current state's type is one of
        ``current``, checking and writing in one transaction (a compare-and-set).

        Recorded as :meth:`apply` records a :class:`~cadenza.events.FlowRunStateChanged`
        event. Returns True when the state was added; False, with nothing written,
        when the run is unknown, has no state, or is in a state of another type.

        Raises:
            StoreFullError: the disk is full.
            StoreError: the database could not be written.
        """

    # -- reading ---------------------------------------------------------------------
    @abc.abstractmethod
    def read_flow_run(self, flow_run_id: str) -> FlowRun | None:
        """The flow run with this id and its full state history, or None if unknown."""

    @abc.abstractmethod
    def read_task_run(self, task_run_id: str) -> TaskRun | None:
        """The task run with this id and its full state history, or None if unknown."""

    @abc.abstractmethod
    def list_flow_runs(
        self,
        filter: FlowRunFilter | None = None,
        *,
        limit: int = 100,
        before_id: str | None = None,
        after_id: str | None = None,
        oldest_first: bool = False,
    ) -> list[FlowRun]:
        """Flow runs matching ``filter``, newest first (in id order), at most ``limit``.

        With ``oldest_first``, oldest first. ``before_id`` and ``after_id`` are cursors:
        only runs created before (after) the run with this id are returned; pass the id
        of the last run of the previous page as ``before_id`` when listing newest first,
        as ``after_id`` when listing oldest first. The run with that id need not exist.
        No history is loaded (``history`` is None). Returns an empty list when nothing
        matches.
        """

    @abc.abstractmethod
    def count_flow_runs_by_state(
        self, filter: FlowRunFilter | None = None, *, bucket_seconds: float | None = None
    ) -> list[tuple[float | None, StateType, int]]:
        """How many flow runs matching ``filter`` are in each state type.

        With ``bucket_seconds``, counted per time bucket of the runs' creation time:
        each row is ``(bucket_start, state_type, count)`` with ``bucket_start`` a
        multiple of ``bucket_seconds`` (seconds since the epoch), ordered by bucket.
        Without it, ``bucket_start`` is None. Runs without a state are left out.
        Returns an empty list when nothing matches.
        """

    @abc.abstractmethod
    def count_flow_runs(self, filter: FlowRunFilter | None = None) -> int:
        """How many flow runs match ``filter`` (0 when none)."""

    @abc.abstractmethod
    def list_task_runs(
        self, flow_run_id: str, *, limit: int | None = None, after_id: str | None = None
    ) -> list[TaskRun]:
        """Task runs of one flow run (not of its subflows), oldest first.

        No history is loaded. ``after_id`` is a cursor for the next page. Returns an
        empty list for an unknown flow run.
        """

    @abc.abstractmethod
    def count_task_runs_by_state(self, flow_run_id: str) -> dict[StateType, int]:
        """How many task runs of one flow run (not of its subflows) are in each state
        type. Task runs without a state are left out. Returns an empty dict for an
        unknown flow run or one without task runs."""

    @abc.abstractmethod
    def list_flows(self) -> list[FlowRecord]:
        """Every flow with its run count and latest run's state, by name."""

    @abc.abstractmethod
    def read_logs(
        self,
        flow_run_id: str,
        *,
        task_run_id: str | None = None,
        after_id: int | None = None,
        limit: int | None = None,
        min_level: int = 0,
        include_subflows: bool = False,
    ) -> list[LogEntry]:
        """Log lines of a flow run in the order they were written.

        With ``task_run_id``, only that task run's lines. ``after_id`` returns only
        lines written after the line with that id (to tail a running run).
        Returns an empty list for an unknown run.
        """

    @abc.abstractmethod
    def resolve_run_id(self, prefix: str) -> list[str]:
        """Ids of flow runs, then task runs, that start with ``prefix`` (at most 10)."""

    # -- artifacts ---------------------------------------------------------------------
    @abc.abstractmethod
    def read_artifact(self, artifact_id: str) -> Artifact | None:
        """The artifact with this id, or None if unknown."""

    @abc.abstractmethod
    def read_artifact_by_key(self, key: str, *, version: int | None = None) -> Artifact | None:
        """The current (newest) artifact with this key, or its ``version``-th, from 1.

        Returns None when no artifact has the key, or when ``version`` is below 1 or
        above the number of versions.
        """

    @abc.abstractmethod
    def list_artifacts(
        self,
        *,
        key: str | None = None,
        flow_run_id: str | None = None,
        task_run_id: str | None = None,
        latest_only: bool = False,
        limit: int = 100,
        before_id: str | None = None,
    ) -> list[Artifact]:
        """Artifacts matching every filter given, newest first, at most ``limit``.

        ``flow_run_id`` matches the artifacts of the flow run itself and of its task
        runs (not of its subflow runs). With ``latest_only``, of the matching
        artifacts that share a key only the newest is returned; those without a key
        are all returned. ``before_id`` is a cursor, as in :meth:`list_flow_runs`.
        Returns an empty list when nothing matches.
        """

    @abc.abstractmethod
    def resolve_artifact_id(self, prefix: str) -> list[str]:
        """Ids of artifacts that start with ``prefix``, in id order (at most 10)."""

    # -- lifecycle ---------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Using the store afterwards is an error."""
