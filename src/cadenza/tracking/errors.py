"""The errors of experiment tracking."""

from __future__ import annotations

from cadenza.context import MissingContextError
from cadenza.exceptions import CadenzaError, ObjectNotFound


class NoActiveRun(MissingContextError):
    """A fluent tracking function was called outside a flow run or task run."""


class InvalidTrackingValue(CadenzaError, ValueError):
    """A param, metric or tag key or value that cannot be recorded."""


class ParamConflict(InvalidTrackingValue):
    """A param was logged again on the same run with another value (params are immutable)."""


class InvalidFilter(CadenzaError, ValueError):
    """A search filter, an ``order_by`` clause or a page token is malformed."""


class ExperimentAlreadyExists(CadenzaError, ValueError):
    """An experiment of that name exists already."""


class InvalidArtifactPath(CadenzaError, ValueError):
    """An artifact path is absolute, climbs out of the run's folder, or names no file."""


class ArtifactNotFound(ObjectNotFound):
    """No artifact file or folder at that path of the run."""
