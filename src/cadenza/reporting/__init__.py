"""Where run events go: the embedded store or a cadenza server."""

from __future__ import annotations

import atexit
import sys
import threading

from cadenza.reporting.base import Reporter

_lock = threading.Lock()
_reporter: Reporter | None = None
_atexit_registered = False


def get_reporter() -> Reporter:
    """The process's reporter, created on first use from the settings.

    With ``CADENZA_API_URL`` set, events go to that server; otherwise to the
    database of ``CADENZA_DATABASE_URL`` or the embedded SQLite file.
    """
    global _reporter, _atexit_registered
    reporter = _reporter
    if reporter is not None:
        return reporter
    with _lock:
        if _reporter is None:
            from cadenza.settings import get_settings

            settings = get_settings()
            if settings.api_url:
                # httpx is imported only here, when a server is used.
                from cadenza.reporting.http import HttpReporter

                _reporter = HttpReporter(
                    settings.api_url,
                    settings.api_key,
                    settings.flush_interval,
                    flush_timeout=settings.api_flush_timeout,
                )
            else:
                from cadenza.reporting.embedded import EmbeddedReporter
                from cadenza.store import get_store

                url = settings.resolved_database_url
                _reporter = EmbeddedReporter(lambda: get_store(url), settings.flush_interval)
            if not _atexit_registered:
                atexit.register(_close_at_exit)
                _atexit_registered = True
        return _reporter


def flush_pending(timeout: float | None = 30.0) -> bool:
    """Deliver what this process has reported so far, if it has a reporter.

    Writes that name a run by its id (``TrackingClient.log_batch`` on the flow run
    being executed, say) call this first, so that the run they name is in the store
    even though the background writer had not written it yet. Returns False when the
    delivery did not finish within ``timeout`` (the events stay queued).
    """
    reporter = _reporter
    return True if reporter is None else reporter.flush(timeout)


def reset_reporter() -> None:
    """Flush and close the current reporter and its store; the next use opens anew."""
    global _reporter
    notify = sys.modules.get("cadenza.notify.runtime")
    if notify is not None:  # notifications use the store closed below
        notify.stop_notifiers()
    with _lock:
        reporter, _reporter = _reporter, None
    if reporter is not None:
        reporter.close()
    from cadenza.store import close_stores

    close_stores()


def _close_at_exit() -> None:
    reporter = _reporter
    if reporter is not None:
        reporter.close()
