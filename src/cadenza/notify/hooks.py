"""``notify("channel")``: a hook for ``on_failure=``, ``on_completion=``,
``on_crashed=`` and ``on_cancellation=`` of flows and tasks.

>>> @flow(on_failure=[notify("ops-email")], on_crashed=[notify("ops-email")])
... def train(): ...

When the run ends in that state, the hook asks for a message to the channel: in
embedded mode it is queued in the database's outbox and delivered from a
background thread; with ``CADENZA_API_URL`` set it is posted to the server, which
renders, queues and delivers it. The hook returns at once and never raises into the
run: a problem is logged on ``cadenza.notify``.
"""

from __future__ import annotations

import logging
from typing import Any

from cadenza.notify.channels import check_name
from cadenza.notify.templates import check_template

logger = logging.getLogger("cadenza.notify")


class NotifyHook:
    """The hook :func:`notify` returns: ``hook(flow_or_task, run, state)``."""

    def __init__(self, channel: str, subject: str | None, body: str | None) -> None:
        self.channel = check_name("channel", channel)
        self.subject = check_template(subject, "subject")
        self.body = check_template(body, "body")
        self.__name__ = f"notify({channel!r})"

    def __call__(self, owner: Any, run: Any, state: Any) -> None:
        try:
            self._submit(run, state)
        except Exception as exc:
            logger.error(
                "notify(%r) could not queue its message: %s: %s",
                self.channel,
                type(exc).__name__,
                exc,
            )

    def _submit(self, run: Any, state: Any) -> None:
        from cadenza.notify.records import RunNotification
        from cadenza.notify.runtime import submit_request
        from cadenza.runs import TaskRun

        if isinstance(run, TaskRun):
            from cadenza.context import FlowRunContext

            ctx = FlowRunContext.get()
            flow_run = ctx.flow_run if ctx is not None else None
            flow_run_id = run.flow_run_id or (flow_run.id if flow_run else run.id)
            request = RunNotification(
                channel=self.channel,
                flow_run_id=flow_run_id,
                state=state,
                flow_name=flow_run.flow_name if flow_run else "",
                run_name=flow_run.name if flow_run else "",
                subject=self.subject,
                body=self.body,
                task_run={"id": run.id, "name": run.name, "task_key": run.task_key},
            )
        else:
            request = RunNotification(
                channel=self.channel,
                flow_run_id=run.id,
                state=state,
                flow_name=run.flow_name,
                run_name=run.name,
                subject=self.subject,
                body=self.body,
            )
        submit_request(request)

    def __repr__(self) -> str:
        return self.__name__


def notify(channel: str, *, subject: str | None = None, body: str | None = None) -> NotifyHook:
    """A hook that notifies ``channel`` of the run's final state.

    Args:
        channel: the name of a channel (``cadenza channel create ...``).
        subject: a template of the subject (default: flow, run and state); see
            :mod:`cadenza.notify.templates` for the variables.
        body: a template of the body (default: what happened, the error, the
            duration and a link to the run).

    Raises:
        InvalidNotificationConfig: an invalid channel name or a template that does
            not render (when the flow or task is defined, not when it runs).
    """
    return NotifyHook(channel, subject, body)
