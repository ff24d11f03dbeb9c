"""Records of the model registry: registered models, their versions, the history of
their stages and aliases, and the models runs logged.

Times are seconds since the epoch, as everywhere in cadenza; the MLflow names
``creation_timestamp`` and ``last_updated_timestamp`` (milliseconds) are there too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

STAGES = ("None", "Staging", "Production", "Archived")
"""The stages of MLflow's older workflow, in their canonical spelling."""

READY = "READY"
"""The status of a model version that can be loaded (the only one cadenza records)."""


def canonical_stage(stage: str | None) -> str:
    """``stage`` spelt as in :data:`STAGES` (any case; None stands for "None").

    Raises:
        InvalidModelError: not one of the stages.
    """
    from cadenza.exceptions import InvalidModelError

    text = "None" if stage is None else str(stage).strip()
    for known in STAGES:
        if text.lower() == known.lower():
            return known
    raise InvalidModelError(
        f"{stage!r} is not a stage; the stages are {', '.join(STAGES)}.", field="stage"
    )


class _Timestamps:
    """MLflow's millisecond timestamps over cadenza's ``created`` and ``updated`` seconds."""

    __slots__ = ()
    created: float
    updated: float

    @property
    def creation_timestamp(self) -> int:
        """When it was created, in milliseconds since the epoch (MLflow's unit)."""
        return int(self.created * 1000)

    @property
    def last_updated_timestamp(self) -> int:
        """When it last changed, in milliseconds since the epoch."""
        return int(self.updated * 1000)


@dataclasses.dataclass(slots=True)
class ModelVersion(_Timestamps):
    """One version of a registered model: where the model is and what produced it."""

    name: str
    version: int
    source: str
    """Where the model's files are: ``runs:/RUN_ID/path`` or another model URI."""
    run_id: str | None = None
    """The run (task run or flow run) that logged the model."""
    flow_run_id: str | None = None
    """The flow run of that run (the run itself when it is a flow run)."""
    status: str = READY
    current_stage: str = "None"
    description: str | None = None
    code_version: str | None = None
    """The git commit of the code that produced the model, when it was in a repository."""
    signature: dict[str, Any] | None = None
    """``{"inputs": [...], "outputs": [...]}``: column names and types."""
    user_id: str | None = None
    created: float = 0.0
    updated: float = 0.0
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    aliases: list[str] = dataclasses.field(default_factory=list)

    @property
    def model_uri(self) -> str:
        """``models:/NAME/VERSION``."""
        return f"models:/{self.name}/{self.version}"


@dataclasses.dataclass(slots=True)
class RegisteredModel(_Timestamps):
    """A named model with its versions' aliases and the latest version of each stage."""

    name: str
    description: str | None = None
    created: float = 0.0
    updated: float = 0.0
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    aliases: dict[str, int] = dataclasses.field(default_factory=dict)
    """Alias -> version number."""
    latest_versions: list[ModelVersion] = dataclasses.field(default_factory=list)
    """The newest version of each stage that has one (as MLflow's)."""
    latest_version: int | None = None
    """The highest version number in use, None without versions."""


@dataclasses.dataclass(slots=True)
class Transition:
    """One move in a model's history: a version's stage changed, or an alias moved."""

    name: str
    version: int
    kind: str
    """``stage`` or ``alias``."""
    from_value: str | None
    """The stage left, or the version the alias pointed at before (None: it is new)."""
    to_value: str | None
    """The stage entered, or the version the alias points at now (None: it was deleted)."""
    user: str | None
    timestamp: float
    alias: str | None = None
    comment: str | None = None
    id: int | None = None


@dataclasses.dataclass(slots=True)
class LoggedModel:
    """A model a run logged with ``log_model``: which run, where, in which flavors."""

    run_id: str
    artifact_path: str
    flow_run_id: str | None = None
    flavors: list[str] = dataclasses.field(default_factory=list)
    signature: dict[str, Any] | None = None
    requirements: list[str] = dataclasses.field(default_factory=list)
    code_version: str | None = None
    created: float = 0.0

    @property
    def model_uri(self) -> str:
        """``runs:/RUN_ID/PATH``."""
        return f"runs:/{self.run_id}/{self.artifact_path}"
