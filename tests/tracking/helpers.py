"""Flows and helpers shared by the tracking tests."""

from __future__ import annotations

from cadenza import flow
from cadenza.context import FlowRunContext, TaskRunContext


def current_flow_run_id() -> str:
    ctx = FlowRunContext.get()
    assert ctx is not None
    return ctx.flow_run.id


def current_task_run_id() -> str:
    ctx = TaskRunContext.get()
    assert ctx is not None
    return ctx.task_run.id


@flow
def empty_flow() -> str:
    """A flow that logs nothing; returns its flow run's id."""
    return current_flow_run_id()
