"""``/ui/runs/{id}/timeline.json``: what the run page's timeline draws, compactly.

One row per task run and per subflow run (with the task runs of the subflow under
it), in the order of the ``cadenza runs show`` tree. Columns are parallel arrays;
times are milliseconds from ``t0`` (the flow run's creation), so that 10,000 rows
are a few hundred kilobytes (and compressed when the browser accepts gzip).
Task runs that ran more than once carry their state history as ``segments``,
which shows each attempt and the waits between them.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cadenza.runs import FlowRun, TaskRun
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.format import STATE_CLASSES
from cadenza.states import State
from cadenza.store.base import FlowRunFilter, RunStore

router = APIRouter()

MAX_ROWS = 50_000
"""Rows sent at most; a larger run's timeline says it is cut."""
MAX_DEPTH = 8
"""Subflows nested deeper are shown as one row, not expanded."""
MAX_HISTORY_READS = 1_000
"""Task runs that ran several times whose attempts are shown; others show their run count."""
GZIP_ABOVE = 4096
COLUMNS = ("id", "name", "kind", "depth", "state", "created", "start", "end", "runs")


@dataclasses.dataclass
class _Node:
    order: tuple[float, int, str]
    task: TaskRun | None = None
    subflow: FlowRun | None = None
    children: list[_Node] = dataclasses.field(default_factory=list)


class Timeline:
    """Rows collected depth-first, as parallel lists."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.states: list[str] = []
        self._state_codes: dict[str, int] = {}
        self.columns: dict[str, list[Any]] = {
            k: []
            for k in ("id", "name", "kind", "depth", "state", "created", "start", "end", "runs")
        }
        self.segments: dict[str, list[list[int]]] = {}
        self.retried: list[tuple[int, str]] = []
        self.truncated = False

    def __len__(self) -> int:
        return len(self.columns["id"])

    def ms(self, ts: float | None) -> int | None:
        return None if ts is None else round((ts - self.t0) * 1000)

    def code(self, state: State | None) -> int:
        name = "None" if state is None else state.name
        code = self._state_codes.get(name)
        if code is None:
            code = self._state_codes[name] = len(self.states)
            self.states.append(name)
        return code

    def add(self, run: FlowRun | TaskRun, kind: int, depth: int, name: str) -> None:
        c = self.columns
        c["id"].append(run.id)
        c["name"].append(name)
        c["kind"].append(kind)
        c["depth"].append(depth)
        c["state"].append(self.code(run.state))
        c["created"].append(self.ms(run.created))
        c["start"].append(self.ms(run.start_time))
        c["end"].append(self.ms(run.end_time))
        c["runs"].append(run.run_count)
        if kind == 0 and run.run_count > 1:
            self.retried.append((len(self) - 1, run.id))

    def to_json(self, run: FlowRun, now: float) -> dict[str, Any]:
        classes = [STATE_CLASSES.get(name, "none") for name in self.states]
        return {
            "t0": self.t0,
            "now": self.ms(now),
            "run": {
                "start": self.ms(run.start_time),
                "end": self.ms(run.end_time),
                "final": run.state is not None and run.state.is_final(),
                "state": None if run.state is None else run.state.name,
            },
            "states": self.states,
            "classes": classes,
            "rows": len(self),
            "truncated": self.truncated,
            **self.columns,
            "segments": self.segments,
        }


def _tree(store: RunStore, run: FlowRun) -> list[_Node]:
    """Task runs and subflow runs of ``run``, nested as in ``cadenza runs show``."""
    tasks = store.list_task_runs(run.id)
    subflows = {
        r.id: r
        for r in store.list_flow_runs(FlowRunFilter(parent_flow_run_id=run.id), limit=MAX_ROWS)
    }
    nodes = {t.id: _Node((t.created, t.dynamic_key, t.id), task=t) for t in tasks}
    top: list[_Node] = []
    for task in tasks:
        node = nodes[task.id]
        if task.kind == "subflow" and task.subflow_run_id:
            node.subflow = subflows.pop(task.subflow_run_id, None)
        parent = nodes.get(task.parent_task_run_id or "")
        (top if parent is None else parent.children).append(node)
    for sub in subflows.values():  # called inside a task run: no slot of its own
        node = _Node((sub.created, 0, sub.id), subflow=sub)
        parent = nodes.get(sub.parent_task_run_id or "")
        (top if parent is None else parent.children).append(node)
    return top


def _walk(store: RunStore, nodes: list[_Node], depth: int, out: Timeline) -> None:
    nodes.sort(key=lambda n: n.order)
    for node in nodes:
        if len(out) >= MAX_ROWS:
            out.truncated = True
            return
        if node.subflow is not None:
            sub = node.subflow
            out.add(sub, 1, depth, f"{sub.flow_name} / {sub.name}")
            if depth < MAX_DEPTH:
                _walk(store, _tree(store, sub), depth + 1, out)
        elif node.task is not None:
            out.add(node.task, 0, depth, node.task.name)
        _walk(store, node.children, depth + 1, out)


def _add_attempts(store: RunStore, out: Timeline) -> None:
    for index, task_run_id in out.retried[:MAX_HISTORY_READS]:
        full = store.read_task_run(task_run_id)
        if full is None or not full.history:
            continue
        segments = []
        for state in full.history:
            ms = out.ms(state.timestamp)
            if ms is not None:
                segments.append([ms, out.code(state)])
        out.segments[str(index)] = segments


def timeline_data(store: RunStore, run: FlowRun, now: float | None = None) -> dict[str, Any]:
    """The timeline of ``run`` as JSON-ready data."""
    out = Timeline(run.created)
    _walk(store, _tree(store, run), 0, out)
    _add_attempts(store, out)
    return out.to_json(run, time.time() if now is None else now)


class _Encoded:
    """A JSON body, and its gzipped form once asked for."""

    def __init__(self, data: Any) -> None:
        self.body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        self._gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=5)
        return self._gzipped


_cache: OrderedDict[tuple[int, str, float, int], _Encoded] = OrderedDict()
_cache_lock = threading.Lock()
CACHED_RUNS = 8
"""Timelines of finished runs kept, newest used last: a finished run's rows no longer
change, and a big one takes a while to gather."""


def json_response(request: Request, data: Any | _Encoded, status_code: int = 200) -> Response:
    """Compact JSON, gzipped when the client accepts it."""
    encoded = data if isinstance(data, _Encoded) else _Encoded(data)
    body = encoded.body
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if len(body) > GZIP_ABOVE and "gzip" in request.headers.get("accept-encoding", ""):
        body = encoded.gzipped()
        headers["Content-Encoding"] = "gzip"
    return Response(body, status_code, headers, media_type="application/json")


def _encoded_timeline(store: RunStore, run: FlowRun) -> _Encoded:
    state = run.state
    if state is None or not state.is_final():
        return _Encoded(timeline_data(store, run))
    key = (id(store), run.id, state.timestamp, run.run_count)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    encoded = _Encoded(timeline_data(store, run))
    with _cache_lock:
        _cache[key] = encoded
        while len(_cache) > CACHED_RUNS:
            _cache.popitem(last=False)
    return encoded


@router.get("/ui/runs/{run_id}/timeline.json", include_in_schema=False)
def timeline(request: Request, run_id: str, store: RunStore = Depends(get_store)) -> Response:
    run = store.read_flow_run(run_id)
    if run is None:
        return json_response(request, {"error": f"No flow run {run_id}."}, 404)
    return json_response(request, _encoded_timeline(store, run))
