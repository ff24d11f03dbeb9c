"""The default task runner: a pool of threads."""

from __future__ import annotations

import atexit
import os
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Self

from cadenza.runners.base import TaskRunner

_Item = tuple[Future[Any], Callable[[], Any]] | None


class _Pool:
    """Daemon worker threads fed from a queue.

    Like ``concurrent.futures.ThreadPoolExecutor`` (threads started on demand, idle
    ones reused), with one difference that matters for a flow that is cancelled or
    interrupted: its threads are daemons, so a task stuck in a long call cannot keep
    the process alive once the flow has given it up. At a normal interpreter exit
    the work already submitted is still waited for (see ``_wait_at_exit``).
    """

    def __init__(self, max_workers: int, name: str) -> None:
        self.max_workers = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self.abandoned = False
        _pools.add(self)

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a task runner that was shut down")
            self._queue.put((future, fn))
            if not self._idle.acquire(timeout=0) and len(self._threads) < self.max_workers:
                t = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                t.start()
                self._threads.append(t)
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.put(None)  # wake the next worker, then leave
                return
            future, fn = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:
                    future.set_exception(exc)
            del item, future, fn
            self._idle.release()

    def shutdown(self, wait: bool) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if not wait:
            self.abandoned = True
            while True:  # cancel what has not started
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join()


_pools: weakref.WeakSet[_Pool] = weakref.WeakSet()


def _wait_at_exit() -> None:
    for pool in list(_pools):
        if not pool.abandoned:
            pool.shutdown(wait=True)


atexit.register(_wait_at_exit)


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
        self._pool: _Pool | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> _Pool:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    workers = self.max_workers
                    if workers is None:
                        from cadenza.settings import get_settings

                        workers = get_settings().task_runner_max_workers or min(
                            32, (os.cpu_count() or 1) + 4
                        )
                    self._pool = _Pool(workers, "cadenza-task")
                pool = self._pool
        return pool

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        return self._get_pool().submit(fn)

    def duplicate(self) -> Self:
        return type(self)(max_workers=self.max_workers)

    def shutdown(self, wait: bool = True) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait)

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"
