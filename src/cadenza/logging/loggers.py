"""Loggers of flow runs and task runs.

Records logged through a run logger go to the console (stderr) and, through
:class:`RunLogHandler`, to the run's log in the store.
"""

from __future__ import annotations

import builtins
import logging
import sys
import threading
from typing import Any

from cadenza.context import _flow_run_ctx, _task_run_ctx, get_run_context
from cadenza.events import LogEmitted
from cadenza.runs import LogEntry

_setup_lock = threading.Lock()
_is_setup = False
_original_print = builtins.print


class _RunAdapter(logging.LoggerAdapter[logging.Logger]):
    """Adds the run's ids to every record (``extra`` merged with the caller's)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = kwargs.get("extra")
        base = dict(self.extra or {})
        kwargs["extra"] = {**base, **extra} if extra else base
        return msg, kwargs


def get_logger(name: str = "cadenza") -> logging.Logger:
    """A logger under cadenza's hierarchy, with cadenza's logging set up."""
    setup_logging()
    return logging.getLogger(name if name.startswith("cadenza") else f"cadenza.{name}")


def get_run_logger(**extra: Any) -> logging.LoggerAdapter[logging.Logger]:
    """The logger of the current task run or flow run.

    Lines logged with it appear on the console and in the run's logs
    (``cadenza runs logs RUN_ID``, the run page of the UI).

    Raises:
        MissingContextError: called outside a flow run or task run.
    """
    ctx = get_run_context()
    if not extra and ctx._logger is not None:
        return ctx._logger
    setup_logging()
    task_run = getattr(ctx, "task_run", None)
    if task_run is not None:
        flow_ctx = getattr(ctx, "flow_run_context", None)
        base = {
            "flow_run_id": task_run.flow_run_id,
            "task_run_id": task_run.id,
            "run_label": f"Task run {task_run.name!r}",
            "flow_run_name": flow_ctx.flow_run.name if flow_ctx else None,
        }
        logger = logging.getLogger("cadenza.task_runs")
    else:
        flow_run = ctx.flow_run  # type: ignore[union-attr]
        base = {
            "flow_run_id": flow_run.id,
            "task_run_id": None,
            "run_label": f"Flow run {flow_run.name!r}",
            "flow_run_name": flow_run.name,
        }
        logger = logging.getLogger("cadenza.flow_runs")
    adapter = _RunAdapter(logger, {**base, **extra})
    if not extra:
        ctx._logger = adapter
    return adapter


_formatter = logging.Formatter()


class RunLogHandler(logging.Handler):
    """Sends records that belong to a run to the reporter (and so to the store)."""

    def emit(self, record: logging.LogRecord) -> None:
        flow_run_id = getattr(record, "flow_run_id", None)
        task_run_id = getattr(record, "task_run_id", None)
        if flow_run_id is None and task_run_id is None:
            return
        try:
            from cadenza.reporting import get_reporter

            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{_formatter.formatException(record.exc_info)}"
            entry = LogEntry(
                flow_run_id, task_run_id, record.levelno, record.name, message, record.created
            )
            get_reporter().emit(LogEmitted(entry))
        except Exception:  # logging must never fail a run
            self.handleError(record)


class _ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d | %(levelname)-7s | %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        label = getattr(record, "run_label", None)
        if label:
            head, sep, tail = text.partition(" | ")
            head2, sep2, message = tail.partition(" | ")
            return f"{head}{sep}{head2}{sep2}{label} - {message}"
        return text


def setup_logging() -> None:
    """Configure the ``cadenza`` loggers once: console on stderr, run logs to the store."""
    global _is_setup
    if _is_setup:
        return
    with _setup_lock:
        if _is_setup:
            return
        from cadenza.settings import get_settings

        root = logging.getLogger("cadenza")
        root.setLevel(get_settings().logging_level)
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(_ConsoleFormatter())
        # Captured prints were printed to stdout already; only the store needs them.
        console.addFilter(lambda record: not getattr(record, "cadenza_print", False))
        root.addHandler(console)
        root.addHandler(RunLogHandler())
        root.propagate = False
        _is_setup = True


def print_as_log(*args: Any, **kwargs: Any) -> None:
    """``print`` that also logs the line to the current run when it has ``log_prints``.

    Installed in place of :func:`print` while a run with ``log_prints=True`` is active;
    output to a file other than stdout is left alone.
    """
    ctx = _task_run_ctx.get() or _flow_run_ctx.get()
    target = kwargs.get("file")
    if ctx is None or not ctx.log_prints or (target is not None and target is not sys.stdout):
        _original_print(*args, **kwargs)
        return
    sep = kwargs.get("sep")
    message = (" " if sep is None else sep).join(str(a) for a in args)
    _original_print(*args, **kwargs)
    get_run_logger().info(message, extra={"cadenza_print": True})


def patch_print() -> None:
    """Route ``print`` through :func:`print_as_log` (idempotent, process-wide)."""
    if builtins.print is not print_as_log:
        builtins.print = print_as_log
