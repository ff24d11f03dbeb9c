"""Exceptions raised by cadenza.

Every error cadenza raises derives from :class:`CadenzaError`. Control signals that
must never be swallowed by a user's ``except Exception`` (a timeout firing inside a
function, a termination request) derive from :class:`CadenzaSignal`, a
``BaseException``.
"""

from __future__ import annotations


class CadenzaError(Exception):
    """Base class of every error raised by cadenza."""


class ParameterTypeError(CadenzaError, TypeError):
    """Flow parameters did not match the flow function's signature or type hints."""


class TaskRunTimeoutError(CadenzaError, TimeoutError):
    """A task run exceeded its ``timeout_seconds``."""


class FlowRunTimeoutError(CadenzaError, TimeoutError):
    """A flow run exceeded its ``timeout_seconds``."""


class UpstreamTaskError(CadenzaError):
    """A task run did not start because a task it depends on did not complete."""


class MappingLengthMismatch(CadenzaError, ValueError):
    """``Task.map`` was given iterables of different lengths."""


class UnfinishedRun(CadenzaError):
    """The result of a run that has not finished was requested."""


class FailedRun(CadenzaError):
    """A run failed; raised by ``State.result()`` when the original exception is gone.

    This happens for states read back from the store, where the error type and
    message are known but the exception object is not.
    """


class CrashedRun(CadenzaError):
    """A run crashed: its process was interrupted or died before it finished."""


class CancelledRun(CadenzaError):
    """A run was cancelled."""


class StoreError(CadenzaError):
    """The run store could not be opened, read or written."""


class StoreSchemaError(StoreError):
    """The database exists but its schema is not the one this version of cadenza uses."""


class StoreCorruptError(StoreError):
    """The database file is not a cadenza database or is damaged."""


class StoreFullError(StoreError):
    """The disk holding the database is full."""


class ObjectNotFound(CadenzaError, LookupError):
    """A run, flow or other object was not found in the store."""


class RegistryError(CadenzaError):
    """An error of the model registry.

    ``error_code`` is the code the REST API answers with (as MLflow's), and
    ``details`` names the parameter at fault, so that a client of a server raises the
    same error as an embedded store.
    """

    error_code = "INVALID_PARAMETER_VALUE"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.details = [{"field": field, "message": message}] if field else None


class ModelNotFoundError(RegistryError, ObjectNotFound):
    """No registered model has this name."""

    error_code = "RESOURCE_DOES_NOT_EXIST"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="name")


class ModelVersionNotFoundError(RegistryError, ObjectNotFound):
    """The registered model exists but has no such version (or alias, or stage)."""

    error_code = "RESOURCE_DOES_NOT_EXIST"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="version")


class ModelAlreadyExistsError(RegistryError):
    """A registered model with this name exists already."""

    error_code = "RESOURCE_ALREADY_EXISTS"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="name")


class InvalidModelError(RegistryError, ValueError):
    """A model, a model URI or a registry argument is not one cadenza accepts."""


class ModelSignatureError(RegistryError, ValueError):
    """The data given to a model's ``predict`` does not match the model's signature."""


class RunStateError(CadenzaError):
    """A run is not in a state that allows what was asked (cancelling a finished run)."""


class ObjectAlreadyExists(CadenzaError):
    """An object with this name exists already in the store."""


class DeploymentNotFound(ObjectNotFound):
    """No deployment has this id or name; the message lists those that exist."""


class WorkPoolNotFound(ObjectNotFound):
    """No work pool has this name; the message lists those that exist."""


class WorkQueueNotFound(ObjectNotFound):
    """The work pool has no queue of this name; the message lists its queues."""


class ScheduleError(CadenzaError, ValueError):
    """A schedule is invalid: a cron string, an interval, an RRULE or a timezone."""


class DeploymentError(CadenzaError, ValueError):
    """A deployment cannot be created or run as given (bad entrypoint, options, file)."""


class ConcurrencyLimitNotFound(ObjectNotFound):
    """No concurrency limit is set for this tag; the message lists the tags that have one."""


class ConcurrencyLimitError(CadenzaError, ValueError):
    """A concurrency limit is invalid (an empty tag, a negative limit), or a task run
    cannot run because one of its tags has a limit of 0."""


class WorkerError(CadenzaError):
    """A worker cannot start or go on as asked (an unknown pool, a bad option)."""


class CadenzaSignal(BaseException):
    """Base class of control signals; ``except Exception`` cannot swallow them."""


class TimeoutSignal(CadenzaSignal):
    """Raised inside a function whose run exceeded its timeout."""


class TerminationSignal(CadenzaSignal):
    """Raised in the main thread when the process receives SIGTERM during a flow run."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"received signal {signum}")
        self.signum = signum


# -- notifications ---------------------------------------------------------------------
class NotificationError(CadenzaError):
    """Base class of the errors of notification channels and automations."""


class InvalidNotificationConfig(NotificationError, ValueError):
    """A channel, automation, template or hook was given an invalid value."""


class SecretError(NotificationError):
    """A secret could not be stored or read: no key, a wrong key, or an unset variable."""


class DeliveryError(NotificationError):
    """A message could not be delivered through a channel (the server refused it, or
    could not be reached)."""
