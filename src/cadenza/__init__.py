"""cadenza: workflow orchestration, tracking and a model registry for ML pipelines.

>>> from cadenza import flow, task
>>> @task(retries=3)
... def download(month: int) -> list[int]: ...
>>> @flow
... def train(month: int = 1): ...
"""

from cadenza._version import __version__
from cadenza.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from cadenza.context import get_run_context, tags
from cadenza.engine.retries import exponential_backoff
from cadenza.flows import Flow, flow
from cadenza.futures import FutureList, TaskRunFuture, allow_failure, as_completed, unmapped, wait
from cadenza.logging.loggers import get_run_logger
from cadenza.registry.fluent import load_model, log_model, register_model
from cadenza.runners.threads import ThreadPoolTaskRunner
from cadenza.states import State, StateType
from cadenza.tasks import Task, task
from cadenza.tracking.client import TrackingClient
from cadenza.tracking.fluent import (
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    set_experiment,
    set_tag,
    set_tags,
)

__all__ = [
    "Flow",
    "FutureList",
    "State",
    "StateType",
    "Task",
    "TaskRunFuture",
    "ThreadPoolTaskRunner",
    "TrackingClient",
    "__version__",
    "allow_failure",
    "as_completed",
    "create_link_artifact",
    "create_markdown_artifact",
    "create_table_artifact",
    "exponential_backoff",
    "flow",
    "get_run_context",
    "get_run_logger",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "set_experiment",
    "set_tag",
    "set_tags",
    "tags",
    "task",
    "unmapped",
    "wait",
]
