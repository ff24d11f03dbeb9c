"""The default task runner: a pool of threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Self

from cadenza.runners.base import TaskRunner


class ThreadPoolTaskRunner(TaskRunner):
    """Runs submitted task runs in a pool of threads (the default).

    Args:
        max_workers: number of threads; default ``CADENZA_TASK_RUNNER_MAX_WORKERS``,
            else ``min(32, cpus + 4)``. Tasks that wait on I/O (downloads, databases)
            benefit from more threads; CPU-bound Python code from a process-based
            runner (Dask, Ray).
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}.")
        self.max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    workers = self.max_workers
                    if workers is None:
                        from cadenza.settings import get_settings

                        workers = get_settings().task_runner_max_workers or min(
                            32, (os.cpu_count() or 1) + 4
                        )
                    self._executor = ThreadPoolExecutor(
                        max_workers=workers, thread_name_prefix="cadenza-task"
                    )
                executor = self._executor
        return executor

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        return self._pool().submit(fn)

    def duplicate(self) -> Self:
        return type(self)(max_workers=self.max_workers)

    def shutdown(self, wait: bool = True) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=not wait)

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"
