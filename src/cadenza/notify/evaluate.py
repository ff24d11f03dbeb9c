"""From a run's transitions to the messages to queue: matching automations and
rendering hooks' requests.

The same functions serve the embedded mode (the flow's own process, when its run
ends) and the server's automations service (for every run whose state changed).
Every message carries a key naming the transition, so evaluating a transition
twice queues it once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cadenza.notify.automations import (
    NOT_COMPLETED,
    RECOVERED,
    Automation,
    transition_events,
)
from cadenza.notify.records import OutboxMessage, RunNotification
from cadenza.notify.templates import message_context, render_message
from cadenza.runs import FlowRun, TaskRun
from cadenza.states import TERMINAL_STATES, State, StateType
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.store.base import RunStore


def previous_final_state(store: RunStore, run: FlowRun) -> State | None:
    """The final state of the latest run of the same flow created before ``run``."""
    from cadenza.store.base import FlowRunFilter

    found = store.list_flow_runs(
        FlowRunFilter(flow_name=run.flow_name, state_types=sorted(TERMINAL_STATES)),
        before_id=run.id,
        limit=1,
    )
    return found[0].state if found else None


def deployment_name(store: Any, run: FlowRun) -> str | None:
    """``flow/name`` of the run's deployment, or None for a run of no deployment."""
    if run.deployment_id is None or not hasattr(store, "read_deployment"):
        return None
    found = store.read_deployment(run.deployment_id)
    return None if found is None else f"{found.flow_name}/{found.name}"


def automation_key(automation: Automation, channel: str, run: FlowRun, state: State) -> str:
    return f"automation:{automation.id}:{channel}:{run.id}:{state.name}@{state.timestamp!r}"


def plan_automations(
    store: RunStore,
    run: FlowRun,
    states: Sequence[State],
    automations: Sequence[Automation],
    *,
    now: float | None = None,
) -> list[OutboxMessage]:
    """The messages the automations send for ``run`` entering each of ``states``.

    ``run`` should have its history loaded (to tell a resumed run that recovered).
    """
    now = time.time() if now is None else now
    out: list[OutboxMessage] = []
    deployment = deployment_name(store, run)
    candidates = [a for a in automations if a.enabled and a.trigger.matches_run(run, deployment)]
    if not candidates:
        return out
    wants_recovery = any(RECOVERED in a.trigger.states for a in candidates)
    previous: State | None = None
    looked_up = False
    for state in states:
        if wants_recovery and state.type is StateType.COMPLETED and not looked_up:
            previous = previous_final_state(store, run)
            looked_up = True
        events = transition_events(run, state, previous)
        for automation in candidates:
            event = automation.trigger.event_for(events)
            if event is None:
                continue
            context = message_context(
                run, state, event, automation=automation.name, deployment=deployment
            )
            out += _messages(automation, run, state, event, context, now)
    return out


def _messages(
    automation: Automation,
    run: FlowRun,
    state: State,
    event: str,
    context: dict[str, Any],
    now: float,
    key: str | None = None,
) -> list[OutboxMessage]:
    """One message per channel of ``automation``."""
    subject, body = render_message(automation.subject, automation.body, context)
    return [
        OutboxMessage(
            id=uuid7(),
            dedup_key=key.format(channel=channel)
            if key
            else automation_key(automation, channel, run, state),
            channel=channel,
            subject=subject,
            body=body,
            event=event,
            source="automation",
            created=now,
            context=context,
            flow_run_id=run.id,
            automation_id=automation.id,
            automation_name=automation.name,
            next_attempt_at=now,
        )
        for channel in automation.channels
    ]


def plan_not_completed(
    store: Any, automation: Automation, runs: Sequence[FlowRun], *, now: float | None = None
) -> list[OutboxMessage]:
    """The messages of a :class:`NotCompletedTrigger` automation for ``runs``, scheduled
    runs whose deadline passed before they completed."""
    now = time.time() if now is None else now
    out: list[OutboxMessage] = []
    for run in runs:
        deployment = deployment_name(store, run)
        if not automation.trigger.matches_run(run, deployment) or run.state is None:
            continue
        context = message_context(
            run, run.state, NOT_COMPLETED, automation=automation.name, deployment=deployment
        )
        key = f"automation:{automation.id}:{{channel}}:{run.id}:{NOT_COMPLETED}"
        out += _messages(automation, run, run.state, NOT_COMPLETED, context, now, key)
    return out


def message_for_request(
    store: RunStore, request: RunNotification, *, now: float | None = None
) -> OutboxMessage:
    """The message a hook's request asks for, rendered from the run as recorded.

    Raises:
        InvalidNotificationConfig: a template of the request does not render.
    """
    from cadenza.notify.templates import check_template

    check_template(request.subject, "subject")
    check_template(request.body, "body")
    now = time.time() if now is None else now
    run = store.read_flow_run(request.flow_run_id)
    if run is None:
        run = FlowRun(id=request.flow_run_id, name=request.run_name, flow_name=request.flow_name)
    task_run = None
    if request.task_run is not None:
        recorded = store.read_task_run(request.task_run["id"])
        task_run = recorded or TaskRun(
            id=request.task_run["id"],
            name=request.task_run.get("name", "task"),
            task_key=request.task_run.get("task_key", ""),
            flow_run_id=request.flow_run_id,
        )
    state = request.state
    context = message_context(run, state, state.name, task_run=task_run)
    subject, body = render_message(request.subject, request.body, context)
    return OutboxMessage(
        id=uuid7(),
        dedup_key=request.dedup_key(),
        channel=request.channel,
        subject=subject,
        body=body,
        event=state.name,
        source=request.source,
        created=now,
        context=context,
        flow_run_id=run.id,
        next_attempt_at=now,
    )
