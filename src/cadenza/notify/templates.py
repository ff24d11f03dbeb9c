"""The subject and body of a notification: Jinja2 templates, rendered sandboxed.

Templates see these variables (see :func:`message_context`):

``flow.name``; ``run.id``, ``run.name``, ``run.tags``, ``run.parameters``,
``run.start_time``, ``run.end_time`` (ISO-8601, UTC), ``run.deployment``;
``state.type``, ``state.name``, ``state.message``, ``state.timestamp``; ``event``
(what happened: ``Failed``, ``Recovered``, ``Late``...); ``headline`` (one sentence
saying it); ``duration`` (``3m04s``) and ``duration_seconds``; ``error`` and
``error_type`` (of a failure, else empty); ``run_url`` (the run's page, when
``CADENZA_UI_URL`` is set); ``automation`` (its name, or None for a hook); for a
task run's hook, ``task_run.name`` and ``task_run.id``.

The environment is Jinja2's immutable sandbox: a template cannot reach Python
internals nor change its values. An undefined variable is an error, reported when
the automation is created.
"""

from __future__ import annotations

import datetime as _dt
import functools
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import InvalidNotificationConfig
from cadenza.states import StateType
from cadenza.utilities.formatting import format_duration

if TYPE_CHECKING:
    from cadenza.runs import FlowRun, TaskRun
    from cadenza.states import State

DEFAULT_SUBJECT = "[cadenza] {{ flow.name }} / {{ run.name }}: {{ event }}"
DEFAULT_BODY = """{{ headline }}
{% if error %}

Error: {{ error }}
{% endif %}

Flow: {{ flow.name }}
Run: {{ run.name }} ({{ run.id }})
State: {{ state.name }}{% if state.timestamp %} at {{ state.timestamp }}{% endif %}

Duration: {{ duration }}
{% if run.deployment %}
Deployment: {{ run.deployment }}
{% endif %}
{% if run_url %}

{{ run_url }}
{% endif %}
"""
MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_TEMPLATE = 20_000

_PHRASES = {
    "Failed": "failed",
    "TimedOut": "timed out",
    "Crashed": "crashed",
    "Cancelled": "was cancelled",
    "Completed": "completed",
    "Recovered": "recovered: it completed after a failure",
    "Late": "is late: it has not started at its scheduled time",
    "Running": "started",
    "NotCompleted": "has not completed in time",
}


@functools.cache
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> Any:
    """A template compiled once (compiling costs milliseconds; rendering microseconds)."""
    return _environment().from_string(text)


def iso(ts: float | None) -> str | None:
    """``ts`` (seconds since the epoch) as ISO-8601 in UTC, or None."""
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat(timespec="seconds")


def run_url(flow_run_id: str, base: str | None = None) -> str | None:
    """The run's page in the web UI, from ``CADENZA_UI_URL``; None when it is unset."""
    if base is None:
        from cadenza.settings import get_settings

        base = get_settings().ui_url
    if not base:
        return None
    return f"{base.rstrip('/')}/runs/{flow_run_id}"


def message_context(
    flow_run: FlowRun,
    state: State,
    event: str,
    *,
    automation: str | None = None,
    task_run: TaskRun | None = None,
    deployment: str | None = None,
    ui_url: str | None = None,
) -> dict[str, Any]:
    """The variables of the templates for one transition of a run (JSON values).

    ``state`` is the state the run (the task run, for a task's hook) entered;
    ``event`` names the transition (``Failed``, ``Recovered``...).
    """
    subject_run: Any = task_run if task_run is not None else flow_run
    failure = state.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)
    duration = subject_run.duration
    if duration is None and subject_run.start_time is not None and state.is_final():
        duration = state.timestamp - subject_run.start_time
    what = f"Task run {task_run.name!r} of flow run" if task_run is not None else "Flow run"
    phrase = _PHRASES.get(event, f"is {state.name}")
    context: dict[str, Any] = {
        "flow": {"name": flow_run.flow_name},
        "run": {
            "id": flow_run.id,
            "name": flow_run.name,
            "tags": list(flow_run.tags),
            "parameters": dict(flow_run.parameters),
            "created": iso(flow_run.created or None),
            "start_time": iso(flow_run.start_time),
            "end_time": iso(flow_run.end_time),
            "deployment": deployment,
        },
        "state": {
            "type": state.type.value,
            "name": state.name,
            "message": state.message,
            "timestamp": iso(state.timestamp),
            "timestamp_epoch": state.timestamp,
        },
        "event": event,
        "headline": f"{what} {flow_run.name!r} of flow {flow_run.flow_name!r} {phrase}.",
        "duration": format_duration(duration),
        "duration_seconds": duration,
        "error": (state.message or "") if failure else "",
        "error_type": (state.error_type or "") if failure else "",
        "run_url": run_url(flow_run.id, ui_url),
        "automation": automation,
        "task_run": None
        if task_run is None
        else {"id": task_run.id, "name": task_run.name, "task_key": task_run.task_key},
    }
    return context


def sample_context() -> dict[str, Any]:
    """A context of every variable, to check templates against."""
    from cadenza.runs import FlowRun
    from cadenza.states import Failed

    run = FlowRun(
        id="01900000-0000-7000-8000-000000000000",
        name="sample-run",
        flow_name="sample-flow",
        created=0.0,
        start_time=0.0,
        end_time=1.0,
    )
    context = message_context(
        run,
        Failed(message="ValueError: sample", timestamp=1.0),
        "Failed",
        automation="sample",
        ui_url="http://cadenza.local",
    )
    # Templates of tasks' hooks may name the task run.
    context["task_run"] = {"id": run.id, "name": "sample-task-0", "task_key": "sample-task"}
    return context


def check_template(text: str | None, field: str) -> str | None:
    """``text`` if it is a template that renders, else a clear error; None stays None.

    Raises:
        InvalidNotificationConfig: a syntax error, an unknown variable, or too long.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidNotificationConfig(f"The {field} template must be a string.")
    if len(text) > MAX_TEMPLATE:
        raise InvalidNotificationConfig(
            f"The {field} template is {len(text)} characters long; at most {MAX_TEMPLATE}."
        )
    try:
        render(text, sample_context())
    except InvalidNotificationConfig as exc:
        raise InvalidNotificationConfig(f"The {field} template does not render: {exc}") from None
    return text


def render(text: str, context: dict[str, Any]) -> str:
    """``text`` rendered with ``context`` in the sandbox.

    Raises:
        InvalidNotificationConfig: the template has a syntax error, uses an unknown
            variable, or tries something the sandbox forbids.
    """
    from jinja2 import TemplateError

    try:
        return str(_compiled(text).render(context))
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise InvalidNotificationConfig(f"{exc.message or exc}{where}") from None


def render_message(
    subject: str | None, body: str | None, context: dict[str, Any]
) -> tuple[str, str]:
    """The subject and body of a message; the default templates where None.

    A template that fails to render (a value it did not expect) falls back to the
    default one, with the error appended to the body, so that nothing is lost.
    """
    problems = []
    try:
        rendered_subject = render(subject or DEFAULT_SUBJECT, context)
    except InvalidNotificationConfig as exc:
        problems.append(f"the subject template failed: {exc}")
        rendered_subject = render(DEFAULT_SUBJECT, context)
    try:
        rendered_body = render(body or DEFAULT_BODY, context)
    except InvalidNotificationConfig as exc:
        problems.append(f"the body template failed: {exc}")
        rendered_body = render(DEFAULT_BODY, context)
    if problems:
        rendered_body += "\n\n(" + "; ".join(problems) + "; the default was used.)"
    one_line = " ".join(rendered_subject.split())
    if len(one_line) > MAX_SUBJECT:
        one_line = one_line[: MAX_SUBJECT - 1] + "…"
    if len(rendered_body) > MAX_BODY:
        rendered_body = rendered_body[: MAX_BODY - 1] + "…"
    return one_line, rendered_body.strip() + "\n"
