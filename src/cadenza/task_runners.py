"""Task runners under the module path Prefect users import them from."""

from cadenza.runners import TaskRunner, ThreadPoolTaskRunner

ConcurrentTaskRunner = ThreadPoolTaskRunner
"""The name of the thread-pool runner in Prefect 2."""

__all__ = ["ConcurrentTaskRunner", "TaskRunner", "ThreadPoolTaskRunner"]
