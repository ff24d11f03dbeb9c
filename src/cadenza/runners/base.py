"""The task runner interface."""

from __future__ import annotations

import abc
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Self


class TaskRunner(abc.ABC):
    """Executes submitted task runs concurrently.

    A flow run enters its task runner (``with runner:``) before its function starts
    and leaves it when the function has returned and every submitted run finished.
    ``duplicate()`` gives an unstarted copy with the same configuration, so one
    runner object can serve several flow runs, including concurrent ones.
    """

    @abc.abstractmethod
    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` (which takes no arguments) and return a future of its result."""

    @abc.abstractmethod
    def duplicate(self) -> Self:
        """An unstarted runner with the same configuration."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self, wait: bool = True) -> None:  # noqa: B027 - optional
        """Release the runner's resources; with ``wait``, after submitted work ends."""
