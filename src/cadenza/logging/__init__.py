"""Run logs: ``get_run_logger()``, the console format, and ``log_prints``."""

from cadenza.logging.loggers import (
    RunLogHandler,
    get_logger,
    get_run_logger,
    print_as_log,
    setup_logging,
)

__all__ = ["RunLogHandler", "get_logger", "get_run_logger", "print_as_log", "setup_logging"]
