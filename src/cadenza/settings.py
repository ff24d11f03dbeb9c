"""cadenza's settings: one object, read from ``CADENZA_*`` environment variables.

Precedence: an argument given to :meth:`Settings.load` (or
:func:`temporary_settings`) > the environment > the default.

This module parses the environment itself instead of using pydantic-settings: the
settings are read when the first flow starts, and importing pydantic-settings costs
about 0.2 s, more than the whole start-up budget of ``import cadenza``. The fields
are few and flat; each is parsed and checked here with an error that names the
variable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_PREFIX = "CADENZA_"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Configuration of cadenza.

    Attributes:
        home: folder of the embedded database and local result storage
            (``CADENZA_HOME``, default ``~/.cadenza``).
        database_url: SQLAlchemy URL of the store (``CADENZA_DATABASE_URL``); by
            default a SQLite file ``cadenza.db`` in ``home``.
        api_url: URL of a cadenza server; when set, runs report to it instead of
            the database (``CADENZA_API_URL``).
        api_key: bearer token sent to the server (``CADENZA_API_KEY``).
        api_flush_timeout: seconds the end of a flow run, and the end of the
            process, wait for an unreachable server before going on
            (``CADENZA_API_FLUSH_TIMEOUT``); the events stay queued and retried.
        logging_level: level of cadenza's console and run logs (``CADENZA_LOGGING_LEVEL``).
        flush_interval: seconds between two batches of the background writer
            (``CADENZA_FLUSH_INTERVAL``).
        task_runner_max_workers: threads of the default task runner
            (``CADENZA_TASK_RUNNER_MAX_WORKERS``); default ``min(32, cpus + 4)``.
        record_inputs: record a summary of each task run's inputs
            (``CADENZA_RECORD_INPUTS``).
        server_api_key: the key a server requires from its clients and UI users
            (``CADENZA_SERVER_API_KEY``); no key means no authentication.
        artifact_root: where the files runs log are kept (``CADENZA_ARTIFACT_ROOT``):
            a local folder or any fsspec URL; by default ``home/artifacts``.
        scheduler_horizon: seconds ahead for which the scheduler creates the runs of
            deployments (``CADENZA_SCHEDULER_HORIZON``, default one day).
        scheduler_max_runs: runs of one deployment created ahead at most
            (``CADENZA_SCHEDULER_MAX_RUNS``).
        scheduler_min_runs: runs of one deployment created ahead at least, even beyond
            the horizon (``CADENZA_SCHEDULER_MIN_RUNS``), so that a monthly schedule
            shows its next runs.
        scheduler_interval: seconds between two passes of the scheduler
            (``CADENZA_SCHEDULER_INTERVAL``).
        late_runs_after: seconds after its scheduled time a run that has not started
            is marked Late (``CADENZA_LATE_RUNS_AFTER``).
        secret_key: the Fernet key that encrypts the secrets of notification
            channels at rest (``CADENZA_SECRET_KEY``); by default a key file
            ``secret.key`` created in ``home`` with mode 0600.
        ui_url: the address of the web UI as people reach it, for the links in
            notifications (``CADENZA_UI_URL``, e.g. ``https://cadenza.example.com``).
        notify_flush_timeout: seconds the end of a process waits for notifications
            still being delivered (``CADENZA_NOTIFY_FLUSH_TIMEOUT``); what is not
            delivered stays in the outbox for a later process or a server.
        notify_retry_delay: seconds before the first retry of a failed delivery,
            doubled at each further attempt (``CADENZA_NOTIFY_RETRY_DELAY``).
        notify_retry_max_delay: seconds between two attempts at most
            (``CADENZA_NOTIFY_RETRY_MAX_DELAY``).
        notify_max_attempts: attempts at delivering one message before it is given
            up as failed (``CADENZA_NOTIFY_MAX_ATTEMPTS``).
        worker_poll_interval: seconds between two looks of an idle worker for new
            runs (``CADENZA_WORKER_POLL_INTERVAL``); runs known ahead start at their
            time whatever this is.
        heartbeat_interval: seconds between two heartbeats of a worker, which also
            look for cancellations of its runs, and between two renewals of the
            concurrency slots a process holds (``CADENZA_HEARTBEAT_INTERVAL``).
        heartbeat_timeout: seconds without a heartbeat after which the monitor marks
            a worker's runs Crashed, and after which a slot not renewed is free
            (``CADENZA_HEARTBEAT_TIMEOUT``).
        monitor_interval: seconds between two passes of the crash monitor
            (``CADENZA_MONITOR_INTERVAL``).
    """

    home: Path = dataclasses.field(default_factory=lambda: Path("~/.cadenza").expanduser())
    database_url: str | None = None
    api_url: str | None = None
    api_key: str | None = None
    api_flush_timeout: float = 30.0
    logging_level: str = "INFO"
    flush_interval: float = 0.1
    task_runner_max_workers: int | None = None
    record_inputs: bool = True
    server_api_key: str | None = None
    artifact_root: str | None = None
    scheduler_horizon: float = 86_400.0
    scheduler_max_runs: int = 100
    scheduler_min_runs: int = 3
    scheduler_interval: float = 5.0
    late_runs_after: float = 15.0
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    ui_url: str | None = None
    notify_flush_timeout: float = 10.0
    notify_retry_delay: float = 5.0
    notify_retry_max_delay: float = 600.0
    notify_max_attempts: int = 8
    worker_poll_interval: float = 0.5
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 30.0
    monitor_interval: float = 5.0

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: ``database_url`` or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'cadenza.db'}"

    @property
    def resolved_artifact_root(self) -> str:
        """The artifact root in use: ``artifact_root`` or the folder ``home/artifacts``."""
        if self.artifact_root:
            return self.artifact_root
        return str(self.home / "artifacts")

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings from the environment, with ``overrides`` taking precedence."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in overrides:
                values[f.name] = _coerce(f.name, overrides.pop(f.name), str(f.type))
                continue
            raw = os.environ.get(_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw, str(f.type))
        if overrides:
            names = ", ".join(sorted(overrides))
            known = ", ".join(f.name for f in dataclasses.fields(cls))
            raise TypeError(f"Unknown setting(s): {names}. Known settings: {known}.")
        return cls(**values)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, value: Any, annotation: str) -> Any:
    env = _PREFIX + name.upper()
    if value is None:
        return None
    if "Path" in annotation:
        return Path(value).expanduser()
    if annotation.startswith("bool"):
        if isinstance(value, bool):
            return value
        low = str(value).strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{env}={value!r} is not a boolean; use true or false.")
    if annotation.startswith(("int", "float")):
        kind = int if annotation.startswith("int") else float
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{env}={value!r} is not a number; give a {kind.__name__}.") from None
        if number < 0:
            raise ValueError(f"{env}={value!r} must not be negative.")
        return number
    if name == "logging_level":
        level = str(value).upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(
                f"{env}={value!r} is not a logging level; use DEBUG, INFO, WARNING or ERROR."
            )
        return level
    return str(value)


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings in force (read from the environment on first use)."""
    global _current
    if _current is None:
        _current = Settings.load()
    return _current


@contextlib.contextmanager
def temporary_settings(**overrides: Any) -> Iterator[Settings]:
    """Use settings with ``overrides`` inside the block (tests, notebooks).

    The embedded store and reporter opened inside the block are closed at its end.
    """
    global _current
    previous = _current
    _current = Settings.load(**overrides)
    from cadenza.reporting import reset_reporter

    try:
        yield _current
    finally:
        reset_reporter()
        _current = previous


def reset_settings() -> None:
    """Forget the cached settings so that the environment is read again."""
    global _current
    _current = None
