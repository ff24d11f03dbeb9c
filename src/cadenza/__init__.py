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

__all__ = [
    "Flow",
    "FutureList",
    "State",
    "StateType",
    "Task",
    "TaskRunFuture",
    "ThreadPoolTaskRunner",
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
    "log_model",
    "register_model",
    "tags",
    "task",
    "unmapped",
    "wait",
]
