"""Log lines of a run, a page at a time, and their live tail.

The run page shows the first :data:`PAGE` lines; the element after them (the *tail*)
fetches the next ones from ``/ui/runs/{id}/logs?after_id=...``: on a click when more
are stored, every second while the run is not finished. Each answer appends its
lines and replaces the tail with one that continues from its last line.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cadenza.runs import LogEntry
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.templating import render
from cadenza.store.base import RunStore

router = APIRouter()

PAGE = 1000
MAX_NAME_LOOKUPS = 50
"""Task runs looked up per page to name the run of each line; lines of others show
the start of the task run's id."""
_NAMES_KEPT = 20_000
_names: OrderedDict[str, str] = OrderedDict()
_names_lock = threading.Lock()


def task_run_name(store: RunStore, task_run_id: str) -> str | None:
    """The name of a task run (names never change: kept for the next pages)."""
    with _names_lock:
        name = _names.get(task_run_id)
    if name is not None:
        return name
    task = store.read_task_run(task_run_id)
    if task is None:
        return None
    with _names_lock:
        _names[task_run_id] = task.name
        while len(_names) > _NAMES_KEPT:
            _names.popitem(last=False)
    return task.name


@dataclasses.dataclass(slots=True)
class LogPage:
    lines: list[LogEntry]
    more: bool
    """More lines are stored after these."""
    live: bool
    """The run is not finished: new lines may come."""
    url: str
    """Where the tail fetches the lines after these."""
    run_names: dict[str, str]
    empty_message: str = "No log lines."


def log_page(
    store: RunStore,
    flow_run_id: str,
    *,
    task_run_id: str | None = None,
    after_id: int | None = None,
    live: bool,
    names: dict[str, str] | None = None,
) -> LogPage:
    """Up to :data:`PAGE` lines after ``after_id``, and how the tail continues.

    Call it after reading the run's state: lines written before a final state are
    committed with or before it, so a finished run's last page is complete.
    """
    lines = store.read_logs(flow_run_id, task_run_id=task_run_id, after_id=after_id, limit=PAGE + 1)
    more = len(lines) > PAGE
    lines = lines[:PAGE]
    last = lines[-1].id if lines else after_id
    url = f"/ui/runs/{flow_run_id}/logs?after_id={last if last is not None else ''}"
    if task_run_id:
        url += f"&task_run_id={task_run_id}"
    run_names = dict(names or {})
    lookups = 0
    for line in lines:
        tid = line.task_run_id
        if tid and tid not in run_names and lookups < MAX_NAME_LOOKUPS:
            lookups += 1
            run_names[tid] = task_run_name(store, tid) or tid[:13]
    return LogPage(lines, more, live, url, run_names)


@router.get("/ui/runs/{flow_run_id}/logs", include_in_schema=False)
def log_lines(
    request: Request,
    flow_run_id: str,
    after_id: str | None = None,
    task_run_id: str | None = None,
    store: RunStore = Depends(get_store),
) -> Response:
    """The lines after ``after_id`` and the next tail, for the page's tail element."""
    run = store.read_flow_run(flow_run_id)
    if run is None:
        return Response("No such flow run.", status_code=404)
    live = run.state is None or not run.state.is_final()
    if task_run_id:
        task = store.read_task_run(task_run_id)
        live = task is not None and (task.state is None or not task.state.is_final()) and live
    after = int(after_id) if after_id and after_id.isdigit() else None
    page = log_page(store, flow_run_id, task_run_id=task_run_id, after_id=after, live=live)
    return render(request, "_log_fragment.html", {"page": page})
