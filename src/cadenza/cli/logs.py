"""Printing (and following) the log lines of a flow run, its subflows or one task run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cadenza.cli.output import (
    LEVEL_STYLES,
    console,
    echo_json_line,
    level_name,
    local_time,
)
from cadenza.cli.serialize import log_json

if TYPE_CHECKING:
    from rich.console import Console

    from cadenza.runs import FlowRun, LogEntry, TaskRun
    from cadenza.store.base import RunStore

_SETTLED = 5.0
"""Seconds after its final state when a run is taken to have written all its lines."""


class RunNames:
    """Names of the runs that write a flow run's log lines, each looked up once.

    Lines of the flow run itself are labelled with its name, lines of its task runs
    with the task run's name, and lines of a subflow run with the subflow run's
    name in front (``sage-beaver/add-0``).
    """

    def __init__(self, store: RunStore, root: FlowRun) -> None:
        self._store = store
        self._root = root.id
        self._flows: dict[str, str] = {root.id: root.name}
        self._tasks: dict[str, str] = {}
        self._load(root.id, depth=0)

    def _load(self, flow_run_id: str, depth: int) -> None:
        from cadenza.store.base import FlowRunFilter

        for task in self._store.list_task_runs(flow_run_id):
            self._tasks[task.id] = task.name
        if depth > 50:
            return
        children = self._store.list_flow_runs(
            FlowRunFilter(parent_flow_run_id=flow_run_id), limit=1_000_000
        )
        for child in children:
            self._flows[child.id] = child.name
            self._load(child.id, depth + 1)

    def _flow_name(self, flow_run_id: str) -> str:
        name = self._flows.get(flow_run_id)
        if name is None:
            run = self._store.read_flow_run(flow_run_id)
            name = self._flows[flow_run_id] = run.name if run else flow_run_id[:13]
        return name

    def _task_name(self, task_run_id: str) -> str:
        name = self._tasks.get(task_run_id)
        if name is None:
            run = self._store.read_task_run(task_run_id)
            name = self._tasks[task_run_id] = run.name if run else task_run_id[:13]
        return name

    def label(self, entry: LogEntry) -> str:
        """Which run wrote ``entry``."""
        flow = entry.flow_run_id or None
        if not entry.task_run_id:
            return "-" if flow is None else self._flow_name(flow)
        task = self._task_name(entry.task_run_id)
        if flow is None or flow == self._root:
            return task
        return f"{self._flow_name(flow)}/{task}"


def belongs_to(store: RunStore, task: TaskRun, root: FlowRun) -> bool:
    """Whether ``task`` ran in ``root`` or in one of its subflow runs."""
    flow_run_id = task.flow_run_id
    for _ in range(100):
        if flow_run_id is None:
            return False
        if flow_run_id == root.id:
            return True
        parent = store.read_flow_run(flow_run_id)
        flow_run_id = None if parent is None else parent.parent_flow_run_id
    return False


def print_line(out: Console, entry: LogEntry, label: str) -> None:
    """Print one log line: local time, level, the run that wrote it, the message."""
    from rich.text import Text

    line = Text.assemble(
        (local_time(entry.timestamp, ms=True), "dim"),
        " | ",
        (f"{level_name(entry.level):<7}", LEVEL_STYLES.get(entry.level, "")),
        " | ",
        (label, "cyan"),
        " | ",
        entry.message,
    )
    out.print(line, soft_wrap=True)


def _final_since(store: RunStore, run: FlowRun | TaskRun) -> float | None:
    """When the run reached its final state (as read now), or None while it is not final."""
    from cadenza.runs import FlowRun

    fresh = store.read_flow_run(run.id) if isinstance(run, FlowRun) else store.read_task_run(run.id)
    if fresh is None:
        return 0.0
    state = fresh.state
    if state is not None and state.is_final():
        return state.timestamp
    return None


def print_logs(
    store: RunStore,
    root: FlowRun,
    *,
    task: TaskRun | None,
    min_level: int,
    follow: bool,
    as_json: bool,
    poll_interval: float,
) -> None:
    """Print the log lines of ``root`` and its subflows, or of ``task`` alone.

    With ``follow``, keep reading new lines until the run (``task`` if given) is in
    a final state, then read once more for lines written with the final state.
    """
    names = RunNames(store, root)
    out = None if as_json else console()
    flow_run_id = task.flow_run_id if task is not None and task.flow_run_id else root.id
    watched: FlowRun | TaskRun = root if task is None else task
    after: int | None = None

    def drain() -> int:
        nonlocal after
        entries = store.read_logs(
            flow_run_id,
            task_run_id=None if task is None else task.id,
            after_id=after,
            min_level=min_level,
            include_subflows=task is None,
        )
        for entry in entries:
            label = names.label(entry)
            if out is None:
                echo_json_line(log_json(entry, label))
            else:
                print_line(out, entry, label)
        if entries:
            after = entries[-1].id
        return len(entries)

    if not follow:
        drain()
        return
    try:
        while True:
            final_at = _final_since(store, watched)
            drain()
            if final_at is not None:
                if time.time() - final_at < _SETTLED:
                    # Lines logged as the run ended may reach the database just after
                    # its final state; read once more.
                    time.sleep(poll_interval)
                    drain()
                return
            time.sleep(poll_interval)
    except KeyboardInterrupt:
        return
