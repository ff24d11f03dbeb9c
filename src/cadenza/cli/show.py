"""``cadenza runs show``: one flow run as a header and a tree, or one task run."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from cadenza.cli.lookup import short_ids
from cadenza.cli.output import (
    console,
    echo_json,
    local_time,
    one_line,
    print_block,
    run_duration,
    state_text,
)
from cadenza.cli.serialize import flow_run_json, log_json, task_run_json

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    from rich.tree import Tree

    from cadenza.runs import FlowRun, TaskRun
    from cadenza.states import State
    from cadenza.store.base import RunStore

_MAX_DEPTH = 50
"""Subflow nesting deeper than this is not expanded."""


@dataclasses.dataclass
class Node:
    """A task run, a subflow run, or the slot of a subflow run, with what ran inside it."""

    task: TaskRun | None = None
    subflow: FlowRun | None = None
    children: list[Node] = dataclasses.field(default_factory=list)

    @property
    def order(self) -> tuple[float, int, str]:
        if self.task is not None:
            return (self.task.created, self.task.dynamic_key, self.task.id)
        assert self.subflow is not None
        return (self.subflow.created, 0, self.subflow.id)


def build_tree(store: RunStore, flow_run: FlowRun, depth: int = 0) -> list[Node]:
    """The task runs and subflow runs of ``flow_run``, nested, each level oldest first.

    Task runs called inside a task run sit under it; a subflow run sits under its
    slot, or under the task run that called it.
    """
    from cadenza.store.base import FlowRunFilter

    tasks = store.list_task_runs(flow_run.id)
    subflows = {
        r.id: r
        for r in store.list_flow_runs(
            FlowRunFilter(parent_flow_run_id=flow_run.id), limit=1_000_000
        )
    }
    nodes = {t.id: Node(task=t) for t in tasks}
    top: list[Node] = []
    for task in tasks:
        node = nodes[task.id]
        if task.kind == "subflow" and task.subflow_run_id:
            node.subflow = subflows.pop(task.subflow_run_id, None) or store.read_flow_run(
                task.subflow_run_id
            )
        parent = nodes.get(task.parent_task_run_id or "")
        (top if parent is None else parent.children).append(node)
    expand = [n for n in nodes.values() if n.subflow is not None]
    for sub in subflows.values():
        # A subflow run without a slot: its flow was called inside a task run.
        node = Node(subflow=sub)
        parent = nodes.get(sub.parent_task_run_id or "")
        (top if parent is None else parent.children).append(node)
        expand.append(node)
    if depth < _MAX_DEPTH:
        for node in expand:
            assert node.subflow is not None
            node.children.extend(build_tree(store, node.subflow, depth + 1))
    _sort(top)
    return top


def _sort(nodes: list[Node]) -> None:
    nodes.sort(key=lambda n: n.order)
    for node in nodes:
        _sort(node.children)


def _walk_ids(nodes: list[Node]) -> list[str]:
    ids = []
    for node in nodes:
        if node.task is not None:
            ids.append(node.task.id)
        if node.subflow is not None:
            ids.append(node.subflow.id)
        ids.extend(_walk_ids(node.children))
    return ids


def node_json(node: Node) -> dict[str, Any]:
    """A tree node: ``task_run`` and ``subflow_run`` (either may be null) and ``children``."""
    return {
        "task_run": None if node.task is None else task_run_json(node.task),
        "subflow_run": None if node.subflow is None else flow_run_json(node.subflow),
        "children": [node_json(c) for c in node.children],
    }


# -- readable output -------------------------------------------------------------------
def _retries(run_count: int) -> str:
    retries = run_count - 1
    if retries < 1:
        return ""
    return f"{retries} {'retry' if retries == 1 else 'retries'}"


def _run_label(
    name: str, run_id: str, state: State | None, start: float | None, end: float | None
) -> Text:
    from rich.text import Text

    label = Text.assemble((name, "bold"), "  ", (run_id, "dim"), "  ")
    label.append_text(state_text(state))
    label.append("  " + run_duration(start, end, state))
    return label


def _node_label(node: Node, short: dict[str, str]) -> Text:
    from rich.text import Text

    run: FlowRun | TaskRun
    if node.subflow is not None:
        sub = node.subflow
        label = Text.assemble(("subflow ", "dim"), (sub.flow_name, "bold"), ": ")
        label.append_text(
            _run_label(sub.name, short[sub.id], sub.state, sub.start_time, sub.end_time)
        )
        run = sub
    else:
        assert node.task is not None
        run = node.task
        label = _run_label(run.name, short[run.id], run.state, run.start_time, run.end_time)
    retries = _retries(run.run_count)
    if retries:
        label.append(f"  {retries}", style="yellow")
    state = run.state
    if state is not None and state.type.value in ("FAILED", "CRASHED") and state.message:
        label.append(f"  {one_line(state.message)}", style="red")
    return label


def _add_nodes(parent: Tree, nodes: list[Node], short: dict[str, str]) -> None:
    for node in nodes:
        branch = parent.add(_node_label(node, short))
        _add_nodes(branch, node.children, short)


def _grid() -> Table:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def _value(value: Any) -> str:
    return one_line(json.dumps(value, ensure_ascii=False, default=str), 200)


def _print_history(out: Console, history: list[State] | None) -> None:
    from rich.table import Table

    if not history:
        return
    out.print()
    out.print("State history", style="bold")
    table = Table(box=None, show_header=False, pad_edge=False)
    for _ in range(3):
        table.add_column(no_wrap=False)
    for state in history:
        table.add_row(local_time(state.timestamp, ms=True), state_text(state), state.message or "")
    print_block(out, table)


def _print_traceback(out: Console, state: State | None) -> None:
    from rich.text import Text

    if state is None or state.type.value not in ("FAILED", "CRASHED") or not state.traceback:
        return
    out.print()
    out.print(f"Traceback of the final state ({state.name})", style="bold")
    out.print(Text(state.traceback.rstrip(), style="red"), soft_wrap=True)


def _timing_rows(grid: Table, run: FlowRun | TaskRun) -> None:
    grid.add_row("Created", local_time(run.created))
    grid.add_row("Started", local_time(run.start_time))
    grid.add_row("Ended", local_time(run.end_time))
    grid.add_row("Duration", run_duration(run.start_time, run.end_time, run.state))
    retries = _retries(run.run_count)
    grid.add_row("Runs", f"{run.run_count} ({retries})" if retries else str(run.run_count))


def _state_row(grid: Table, state: State | None) -> None:
    text = state_text(state)
    if state is not None and state.message:
        text.append(f"  {one_line(state.message)}")
    grid.add_row("State", text)


def show_flow_run(store: RunStore, run: FlowRun, *, as_json: bool) -> None:
    """Print a flow run: header, state history, traceback if failed, tree of task runs."""
    tree = build_tree(store, run)
    if as_json:
        echo_json(
            {
                "kind": "flow_run",
                "flow_run": flow_run_json(run),
                "children": [node_json(n) for n in tree],
            }
        )
        return
    from rich.tree import Tree

    out = console()
    grid = _grid()
    grid.add_row("Flow run", f"{run.name}  {run.id}")
    grid.add_row("Flow", run.flow_name)
    _state_row(grid, run.state)
    params = ", ".join(f"{k}={_value(v)}" for k, v in run.parameters.items())
    grid.add_row("Parameters", params or "-")
    grid.add_row("Tags", ", ".join(run.tags) or "-")
    if run.parent_flow_run_id:
        parent = store.read_flow_run(run.parent_flow_run_id)
        name = f"{parent.name}  " if parent else ""
        grid.add_row("Parent run", f"{name}{run.parent_flow_run_id}")
    _timing_rows(grid, run)
    if run.hostname or run.pid:
        grid.add_row("Host", f"{run.hostname or '-'} (pid {run.pid or '-'})")
    if run.version:
        grid.add_row("Version", run.version)
    print_block(out, grid)
    _print_history(out, run.history)
    _print_traceback(out, run.state)

    out.print()
    if not tree:
        out.print("No task runs.", style="dim")
        return
    short = short_ids(store, [run.id, *_walk_ids(tree)])
    root = Tree(_run_label(run.name, short[run.id], run.state, run.start_time, run.end_time))
    _add_nodes(root, tree, short)
    out.print("Task runs", style="bold")
    print_block(out, root)


def input_text(summary: Any) -> str:
    """One stored input of a task run: its value, or its type and size, or its source."""
    if not isinstance(summary, dict):
        return _value(summary)
    if "upstream" in summary:
        ids = summary["upstream"]
        ids = ids if isinstance(ids, list) else [ids]
        return "from task run " + ", ".join(str(i) for i in ids)
    kind = str(summary.get("type", "?"))
    if "value" in summary:
        return f"{_value(summary['value'])} ({kind})"
    if "shape" in summary:
        return f"{kind} of shape {'x'.join(str(n) for n in summary['shape'])}"
    if "len" in summary:
        return f"{kind} of length {summary['len']}"
    return kind


def show_task_run(store: RunStore, run: TaskRun, *, as_json: bool) -> None:
    """Print a task run: header with inputs, state history, traceback if failed, logs."""
    from cadenza.cli.logs import print_line

    flow_run = store.read_flow_run(run.flow_run_id) if run.flow_run_id else None
    logs = store.read_logs(run.flow_run_id, task_run_id=run.id) if run.flow_run_id else []
    if as_json:
        record = flow_run_json(flow_run) if flow_run else None
        if record is not None:
            record.pop("history", None)
        echo_json(
            {
                "kind": "task_run",
                "task_run": task_run_json(run),
                "flow_run": record,
                "logs": [log_json(e, run.name) for e in logs],
            }
        )
        return
    out = console()
    grid = _grid()
    grid.add_row("Task run", f"{run.name}  {run.id}")
    grid.add_row("Task", run.task_key)
    if flow_run is not None:
        grid.add_row("Flow run", f"{flow_run.name} ({flow_run.flow_name})  {flow_run.id}")
    if run.kind == "subflow" and run.subflow_run_id:
        grid.add_row(
            "Subflow run", f"{run.subflow_run_id}  (cadenza runs show {run.subflow_run_id})"
        )
    _state_row(grid, run.state)
    inputs = run.inputs or {}
    grid.add_row("Inputs", "\n".join(f"{k} = {input_text(v)}" for k, v in inputs.items()) or "-")
    grid.add_row("Tags", ", ".join(run.tags) or "-")
    _timing_rows(grid, run)
    print_block(out, grid)
    _print_history(out, run.history)
    _print_traceback(out, run.state)
    out.print()
    if not logs:
        out.print("No log lines.", style="dim")
        return
    out.print("Logs", style="bold")
    for entry in logs:
        print_line(out, entry, run.name)
