"""The fluent tracking functions: they record on the run of the calling code.

Inside a task they record on the task run, inside a flow (outside its tasks) on
the flow run. Each call checks its arguments, then queues an event for the run's
reporter (no I/O on the caller's thread); the background writer records the
events in batches, locally or on a server, and the end of the flow run waits for
them. Outside any run they raise :class:`~cadenza.tracking.errors.NoActiveRun`.

Example::

    import cadenza

    @cadenza.task
    def train(max_depth: int) -> float:
        cadenza.log_params({"max_depth": max_depth, "model": "xgboost"})
        for epoch in range(100):
            cadenza.log_metric("loss", fit_one_epoch(), step=epoch)
        rmse = evaluate()
        cadenza.log_metric("rmse", rmse)
        return rmse
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from cadenza.context import FlowRunContext, TaskRunContext, _flow_run_ctx, _task_run_ctx
from cadenza.events import DatasetLogged, ExperimentSet, MetricLogged, ParamsLogged, TagsSet
from cadenza.reporting.base import Reporter
from cadenza.tracking import values
from cadenza.tracking.current import outside_run
from cadenza.tracking.errors import InvalidArtifactPath, InvalidTrackingValue

_now = time.time
_check_key = values.check_key
_metric_value = values.metric_value


def _run(what: str) -> tuple[TaskRunContext | FlowRunContext, str, Reporter]:
    """The context, run id and reporter of the calling code's run."""
    task_ctx = _task_run_ctx.get()
    if task_ctx is not None:
        flow_ctx = task_ctx.flow_run_context
        if flow_ctx is not None:
            return task_ctx, task_ctx.task_run.id, flow_ctx.reporter
        from cadenza.reporting import get_reporter

        return task_ctx, task_ctx.task_run.id, get_reporter()
    flow_ctx = _flow_run_ctx.get()
    if flow_ctx is not None:
        return flow_ctx, flow_ctx.flow_run.id, flow_ctx.reporter
    raise outside_run(what)


# -- metrics -----------------------------------------------------------------------------
def log_metric(
    key: str, value: float, step: int | None = None, timestamp: float | None = None
) -> None:
    """Record one point of the metric ``key`` on the current run.

    Every point is kept (``TrackingClient().get_metric_history``); searches and the UI
    use the latest: the point of the highest step, then the latest time.

    Args:
        key: the metric's name: letters, digits, ``_ - . /`` and spaces (``val/rmse``).
        value: a number (NaN and infinities are kept as such).
        step: the training step or epoch (0 by default).
        timestamp: seconds since the epoch (now by default).

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: the key, value, step or timestamp is not valid.
    """
    task_ctx = _task_run_ctx.get()
    if task_ctx is not None and task_ctx.flow_run_context is not None:
        run_id = task_ctx.task_run.id
        reporter = task_ctx.flow_run_context.reporter
    else:
        _, run_id, reporter = _run("log_metric")
    key = _check_key(key, "metric key")
    if type(value) is not float:
        value = _metric_value(value, key)
    if step is not None and type(step) is not int:
        step = values.step_value(step, key)
    reporter.emit(
        MetricLogged(
            run_id,
            key,
            value,
            _now() if timestamp is None else values.timestamp_value(timestamp, key),
            step or 0,
        )
    )


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: float | None = None
) -> None:
    """Record one point of each metric of ``metrics`` on the current run, at the same
    step and time.

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: ``metrics`` is not a mapping, or a key or value is not
            valid (nothing is recorded then).
    """
    _, run_id, reporter = _run("log_metrics")
    if not isinstance(metrics, Mapping):
        raise InvalidTrackingValue(
            f"log_metrics needs a dict of metric names to numbers, not a "
            f"{type(metrics).__name__}; for one metric use log_metric(key, value)."
        )
    ts = _now() if timestamp is None else values.timestamp_value(timestamp, "metrics")
    n = values.step_value(step, "metrics")
    events = []
    for key, value in metrics.items():
        key = _check_key(key, "metric key")
        events.append(MetricLogged(run_id, key, _metric_value(value, key), ts, n))
    for event in events:
        reporter.emit(event)


# -- params ------------------------------------------------------------------------------
def log_param(key: str, value: Any) -> Any:
    """Record a parameter on the current run; returns ``value``.

    A param holds ``str(value)`` and is set once: logging the same value again is
    fine, another value is an error.

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: the key is not valid or the value too long.
        ParamConflict: the run has this param already, with another value.
    """
    log_params({key: value}, _what="log_param")
    return value


def log_params(params: Mapping[str, Any], *, _what: str = "log_params") -> None:
    """Record parameters on the current run (each holds ``str(value)``, set once).

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: ``params`` is not a mapping, or a key or value is not
            valid (nothing is recorded then).
        ParamConflict: the run has one of these params already, with another value.
    """
    ctx, run_id, reporter = _run(_what)
    if not isinstance(params, Mapping):
        raise InvalidTrackingValue(
            f"log_params needs a dict of parameter names to values, not a "
            f"{type(params).__name__}; for one parameter use log_param(key, value)."
        )
    new: dict[str, str] = {}
    for key, value in params.items():
        key = _check_key(key, "param key")
        new[key] = values.param_value(value, key)
    try:
        known = ctx.tracked_params
    except AttributeError:
        known = ctx.tracked_params = {}
    for key, text in new.items():
        old = known.get(key)
        if old is not None and old != text:
            from cadenza.store.tracking_sql import param_conflict

            raise param_conflict(run_id, key, old, text)
    fresh = {k: v for k, v in new.items() if k not in known}
    if fresh:
        known.update(fresh)
        reporter.emit(ParamsLogged(run_id, fresh))


# -- tags --------------------------------------------------------------------------------
def set_tag(key: str, value: Any) -> None:
    """Set a tag of the current run to ``str(value)`` (set again, it takes the new value).

    These are key-value tags of tracking, not the labels given by ``tags=`` or
    ``cadenza.tags(...)``.

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: the key is not valid or the value too long.
    """
    set_tags({key: value}, _what="set_tag")


def set_tags(tags: Mapping[str, Any], *, _what: str = "set_tags") -> None:
    """Set tags of the current run (each to ``str(value)``).

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: ``tags`` is not a mapping, or a key or value is not valid.
    """
    _, run_id, reporter = _run(_what)
    if not isinstance(tags, Mapping):
        raise InvalidTrackingValue(
            f"set_tags needs a dict of tag names to values, not a {type(tags).__name__}."
        )
    checked = {}
    for key, value in tags.items():
        key = _check_key(key, "tag key")
        checked[key] = values.tag_value(value, key)
    reporter.emit(TagsSet(run_id, checked, _now()))


# -- experiments -------------------------------------------------------------------------
def set_experiment(experiment_name: str) -> None:
    """Put the current flow run, and those of its task runs that log something, in the
    experiment ``experiment_name`` (created if it does not exist).

    By default a flow run belongs to the experiment named after its flow. Called in a
    task, this moves the task's flow run (with the task run); in a task outside any
    flow, the task run alone.

    Raises:
        NoActiveRun: called outside a flow run or task run; to create an experiment
            there, use ``TrackingClient().create_experiment(name)``.
        InvalidTrackingValue: the name is empty or longer than 255 characters.
    """
    ctx, run_id, reporter = _run("set_experiment")
    name = values.experiment_name(experiment_name)
    if isinstance(ctx, TaskRunContext) and ctx.task_run.flow_run_id is not None:
        run_id = ctx.task_run.flow_run_id
    reporter.emit(ExperimentSet(run_id, name))


# -- datasets ----------------------------------------------------------------------------
def log_input(
    dataset: Any,
    name: str | None = None,
    source: str | None = None,
    context: str | None = None,
) -> str:
    """Record that the current run read ``dataset``: its fingerprint, name, source,
    schema and row count. Returns the fingerprint.

    The fingerprint is :func:`cadenza.hashing.hash_objects` of the data (fast on
    DataFrames and arrays): two runs that read the same data record the same one. The
    schema is the columns and dtypes of a pandas or polars DataFrame, a pyarrow Table
    or a NumPy structured array; the row count is its length.

    Args:
        dataset: a DataFrame, an array, a list of records... anything hashable by
            cadenza's hashing.
        name: a short name, such as ``taxi-2024-01`` (by default the last part of
            ``source``, or ``dataset``).
        source: where it came from: a path or URL.
        context: how the run uses it: ``training``, ``validation``, ``test``...

    Raises:
        NoActiveRun: called outside a flow run or task run.
        InvalidTrackingValue: ``name``, ``source`` or ``context`` is not a str.
        UnhashableInputError: the data cannot be fingerprinted.
    """
    _, run_id, reporter = _run("log_input")
    for label, given in (("name", name), ("source", source), ("context", context)):
        if given is not None and not isinstance(given, str):
            raise InvalidTrackingValue(
                f"log_input: {label} must be a str, not a {type(given).__name__}."
            )
    from cadenza.tracking.datasets import describe

    described = describe(dataset, name=name, source=source, context=context)
    reporter.emit(
        DatasetLogged(
            run_id,
            described.name,
            described.digest,
            described.source,
            described.context,
            described.schema,
            described.num_rows,
            described.profile,
            _now(),
        )
    )
    return described.digest


# -- files -------------------------------------------------------------------------------
def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local file into the current run's artifacts (see
    :func:`cadenza.tracking.artifacts.log_artifact`)."""
    from cadenza.tracking import artifacts

    artifacts.log_artifact(local_path, artifact_path, run_id=run_id)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local folder into the current run's artifacts (see
    :func:`cadenza.tracking.artifacts.log_artifacts`)."""
    from cadenza.tracking import artifacts

    artifacts.log_artifacts(local_dir, artifact_path, run_id=run_id)


def _write(data: bytes, artifact_file: str, run_id: str | None, what: str) -> None:
    from cadenza.tracking import artifacts

    path = artifacts.validate_path(artifact_file, "artifact_file")
    if not path:
        raise InvalidArtifactPath(
            f"{what} needs artifact_file, the path of the file under the run's root "
            "(such as 'config.json' or 'plots/loss.png')."
        )
    run = artifacts.resolve_run(run_id, what)
    artifacts.get_artifact_store().upload(run, path, io.BytesIO(data))


def log_text(text: str, artifact_file: str, *, run_id: str | None = None) -> None:
    """Store ``text`` (UTF-8) as the file ``artifact_file`` of the current run's artifacts.

    Raises:
        NoActiveRun: no ``run_id`` was given and the caller is in no run.
        InvalidArtifactPath: ``artifact_file`` is empty, absolute or has a ``..`` part.
        InvalidTrackingValue: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise InvalidTrackingValue(f"log_text needs a str, not a {type(text).__name__}.")
    _write(text.encode("utf-8"), artifact_file, run_id, "log_text")


def log_dict(dictionary: Any, artifact_file: str, *, run_id: str | None = None) -> None:
    """Store ``dictionary`` as a JSON file (YAML for ``.yaml``/``.yml`` names) among the
    current run's artifacts.

    Raises:
        NoActiveRun: no ``run_id`` was given and the caller is in no run.
        InvalidArtifactPath: ``artifact_file`` is empty, absolute or has a ``..`` part.
        InvalidTrackingValue: the value cannot be written as JSON (or YAML).
    """
    name = str(artifact_file)
    try:
        if name.lower().endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise InvalidTrackingValue(
                    f"log_dict: writing {name!r} as YAML needs PyYAML (pip install pyyaml); "
                    "or give a .json name."
                ) from None
            data = yaml.safe_dump(dictionary, sort_keys=False, allow_unicode=True).encode()
        else:
            data = json.dumps(dictionary, indent=2, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidTrackingValue(f"log_dict could not write {name!r}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError, whose class is not imported otherwise
        raise InvalidTrackingValue(f"log_dict could not write {name!r}: {exc}") from None
    _write(data, artifact_file, run_id, "log_dict")


_FIGURE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "webp")


def log_figure(figure: Any, artifact_file: str, *, run_id: str | None = None) -> None:
    """Store a matplotlib figure (``.png``, ``.svg``, ``.pdf``, ``.jpg``...) or a plotly
    figure (``.html``) as a file among the current run's artifacts.

    Raises:
        NoActiveRun: no ``run_id`` was given and the caller is in no run.
        InvalidArtifactPath: ``artifact_file`` is empty, absolute or has a ``..`` part.
        InvalidTrackingValue: ``figure`` is not a figure, or the file's extension is not
            one of a figure.
    """
    name = str(artifact_file)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if ext == "html" and hasattr(figure, "to_html"):
        data = figure.to_html(include_plotlyjs=True).encode("utf-8")
    elif hasattr(figure, "savefig"):
        if ext not in _FIGURE_FORMATS:
            raise InvalidTrackingValue(
                f"log_figure: {name!r} needs one of the extensions "
                f"{', '.join('.' + f for f in _FIGURE_FORMATS)} for a matplotlib figure."
            )
        buffer = io.BytesIO()
        figure.savefig(buffer, format=ext)
        data = buffer.getvalue()
    else:
        raise InvalidTrackingValue(
            f"log_figure needs a matplotlib figure (or a plotly figure with a .html name), "
            f"not a {type(figure).__name__}."
        )
    _write(data, artifact_file, run_id, "log_figure")


__all__ = [
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "set_experiment",
    "set_tag",
    "set_tags",
]
