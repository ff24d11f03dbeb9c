"""Result persistence and cache lookups of task runs.

Resolved once per task (and per flow run for what a flow sets as the default of
its tasks), so that tasks without caching pay one attribute check per call.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadenza.cache_policies import (
    DEFAULT,
    CacheContext,
    CacheKeyFnPolicy,
    CachePolicy,
    NoCache,
    resolve_policy,
)
from cadenza.hashing import UnhashableInputError, hash_objects
from cadenza.results.records import CorruptResult, ResultRecord
from cadenza.results.serializers import Serializer, get_serializer
from cadenza.results.storage import ResultStorage
from cadenza.settings import get_settings
from cadenza.states import State, StateType

if TYPE_CHECKING:
    from cadenza.context import FlowRunContext, TaskRunContext
    from cadenza.runs import TaskRun
    from cadenza.tasks import Task

logger = logging.getLogger("cadenza.task_runs")

_storages: dict[str, ResultStorage] = {}
_storages_lock = threading.Lock()


def get_storage(spec: str | Path | ResultStorage | None) -> ResultStorage:
    """The storage for a path, an fsspec URL, a storage object, or the default folder."""
    if isinstance(spec, ResultStorage):
        return spec
    url = str(spec) if spec is not None else str(get_settings().home / "results")
    storage = _storages.get(url)
    if storage is None:
        with _storages_lock:
            storage = _storages.setdefault(url, ResultStorage(url))
    return storage


@dataclass(frozen=True, slots=True)
class ResultOptions:
    """How one task's results are kept, after defaults from its flow are applied."""

    policy: CachePolicy | None
    implicit_policy: bool
    persist: bool
    storage: ResultStorage
    serializer: Serializer
    expiration: float | None
    refresh: bool


def check_task_options(
    owner: str,
    cache_policy: CachePolicy | None,
    cache_key_fn: Any,
    cache_expiration: timedelta | None,
    result_serializer: Any,
) -> None:
    """Raise clear errors for caching options that cannot work (at decoration time)."""
    resolve_policy(cache_policy, cache_key_fn)
    if cache_expiration is not None and not isinstance(cache_expiration, timedelta):
        raise TypeError(
            f"{owner}: cache_expiration must be a datetime.timedelta, got {cache_expiration!r}."
        )
    if result_serializer is not None:
        get_serializer(result_serializer)


def result_options(task: Task[Any, Any], flow_ctx: FlowRunContext | None) -> ResultOptions | None:
    """The result options of a call of ``task``, or None when it neither caches nor persists."""
    flow = flow_ctx.flow if flow_ctx is not None else None
    policy = resolve_policy(task.cache_policy, task.cache_key_fn)
    persist = task.persist_result
    if persist is None and flow is not None:
        persist = flow.persist_result
    if policy is None and not persist:
        return None
    explicit_off = isinstance(policy, NoCache)
    if persist is None:
        persist = not explicit_off
    implicit = policy is None
    if implicit:
        policy = DEFAULT
    if explicit_off:
        policy = None
    storage_spec = task.result_storage
    if storage_spec is None and flow is not None:
        storage_spec = flow.result_storage
    serializer_spec = task.result_serializer
    if serializer_spec is None and flow is not None:
        serializer_spec = flow.result_serializer
    expiration = task.cache_expiration
    return ResultOptions(
        policy=policy,
        implicit_policy=implicit,
        persist=bool(persist),
        storage=get_storage(storage_spec),
        serializer=get_serializer(serializer_spec),
        expiration=expiration.total_seconds() if expiration is not None else None,
        refresh=bool(task.refresh_cache),
    )


def compute_key(
    options: ResultOptions,
    task: Task[Any, Any],
    task_run: TaskRun,
    flow_ctx: FlowRunContext | None,
    run_ctx: TaskRunContext | None,
    inputs: dict[str, Any],
) -> str | None:
    """The cache key of this call, or None.

    Raises:
        UnhashableInputError: an input cannot be hashed and the task asked for
            caching explicitly (with the policy implied by ``persist_result`` the
            call is just not cached, with a warning).
    """
    if options.policy is None:
        return None
    ctx = CacheContext(
        task_key=task.task_key,
        task_fn=task.fn,
        flow_run_id=task_run.flow_run_id,
        flow_parameters=flow_ctx.flow_run.parameters if flow_ctx is not None else None,
        run_context=run_ctx,
    )
    try:
        key = options.policy.compute_key(ctx, inputs)
    except UnhashableInputError as exc:
        if not options.implicit_policy:
            raise
        logger.warning(
            "Not caching this run: %s",
            exc,
            extra={"flow_run_id": task_run.flow_run_id, "task_run_id": task_run.id},
        )
        return None
    if key is None or isinstance(options.policy, CacheKeyFnPolicy):
        return key  # a cache_key_fn's keys are the user's to share between tasks
    # Two tasks with the same inputs (and the same source) must not share results.
    return hash_objects(task.task_key, key)


def lookup(options: ResultOptions, key: str, task_run: TaskRun) -> State | None:
    """A ``Cached`` state holding the stored result for ``key``, or None on a miss.

    A missing, expired, unreadable or corrupt result is a miss; the last two are
    logged as warnings.
    """
    if options.refresh:
        return None
    storage = options.storage
    extra = {"flow_run_id": task_run.flow_run_id, "task_run_id": task_run.id}
    try:
        data = storage.read(key)
        if data is None:
            return None
        record = ResultRecord.from_bytes(data)
        if record.is_expired():
            return None
        value = get_serializer(record.serializer).loads(record.payload)
    except (OSError, CorruptResult, ValueError, EOFError, ImportError, AttributeError) as exc:
        logger.warning(
            "Cached result %s could not be read (%s: %s); running the task instead.",
            storage.location(key),
            type(exc).__name__,
            exc,
            extra=extra,
        )
        return None
    except Exception as exc:  # an unpickling error of any kind
        logger.warning(
            "Cached result %s could not be loaded (%s: %s); running the task instead.",
            storage.location(key),
            type(exc).__name__,
            exc,
            extra=extra,
        )
        return None
    data_fields: dict[str, Any] = {
        "cache_key": key,
        "result": storage.location(key),
        "serializer": record.serializer,
    }
    if record.task_run_id:
        data_fields["cached_from"] = record.task_run_id
    if record.expires is not None:
        data_fields["cache_expires"] = record.expires
    return State(
        StateType.COMPLETED,
        "Cached",
        result=value,
        data=data_fields,
        message=f"Result of task run {record.task_run_id} reused" if record.task_run_id else None,
    )


def persist(
    options: ResultOptions, key: str | None, task: Task[Any, Any], task_run: TaskRun, value: Any
) -> dict[str, Any] | None:
    """Write the result; returns the details recorded with the Completed state.

    A result that cannot be serialized or written is logged, not raised: the run
    completed, only its result is not kept.
    """
    if not options.persist:
        return None
    now = time.time()
    storage_key = key or task_run.id
    try:
        payload = options.serializer.dumps(value)
        record = ResultRecord(
            serializer=options.serializer.name,
            payload=payload,
            task_run_id=task_run.id,
            task_key=task.task_key,
            cache_key=key,
            created=now,
            expires=now + options.expiration if options.expiration is not None else None,
        )
        location = options.storage.write(storage_key, record.to_bytes())
    except Exception as exc:
        logger.warning(
            "The result of this run could not be stored (%s: %s); it will not be reused.",
            type(exc).__name__,
            exc,
            extra={"flow_run_id": task_run.flow_run_id, "task_run_id": task_run.id},
        )
        return None
    details: dict[str, Any] = {"result": location, "serializer": options.serializer.name}
    if key is not None:
        details["cache_key"] = key
    return details
