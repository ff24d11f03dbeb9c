"""Task runners: where submitted task runs execute."""

from cadenza.runners.base import TaskRunner
from cadenza.runners.threads import ThreadPoolTaskRunner

__all__ = ["TaskRunner", "ThreadPoolTaskRunner"]
