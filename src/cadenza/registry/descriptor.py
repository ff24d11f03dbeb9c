"""The ``MLmodel`` file of a saved model: its flavors, loader, signature, requirements,
the run that produced it, the code version and when it was made.

It is written as JSON (which YAML readers read too), beside ``requirements.txt``.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path
from typing import Any

from cadenza.exceptions import InvalidModelError

DESCRIPTOR = "MLmodel"
REQUIREMENTS = "requirements.txt"
INPUT_EXAMPLE = "input_example.json"
PYFUNC = "python_function"


@dataclasses.dataclass(slots=True)
class ModelDescriptor:
    """What is known about a saved model (the content of its ``MLmodel`` file)."""

    flavors: dict[str, dict[str, Any]]
    """Flavor name -> its configuration; ``python_function`` names the loader module."""
    artifact_path: str = "model"
    run_id: str | None = None
    flow_run_id: str | None = None
    signature: dict[str, Any] | None = None
    requirements: list[str] = dataclasses.field(default_factory=list)
    code_version: str | None = None
    created: float = dataclasses.field(default_factory=time.time)
    model_uuid: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    metadata: dict[str, Any] | None = None
    cadenza_version: str | None = None
    has_input_example: bool = False

    @property
    def loader_module(self) -> str:
        """The module that loads this model and predicts with it."""
        conf = self.flavors.get(PYFUNC) or {}
        return str(conf.get("loader_module", ""))

    @property
    def native_flavor(self) -> str:
        """The flavor the model was saved in (``sklearn``, ``xgboost``, ``python_function``)."""
        others = [f for f in self.flavors if f != PYFUNC]
        return others[0] if others else PYFUNC

    def get_input_schema(self) -> list[dict[str, Any]] | None:
        return (self.signature or {}).get("inputs")

    def get_output_schema(self) -> list[dict[str, Any]] | None:
        return (self.signature or {}).get("outputs")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["utc_time_created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created))
        return out

    def save(self, folder: Path) -> None:
        """Write ``MLmodel`` and ``requirements.txt`` into ``folder``."""
        (folder / DESCRIPTOR).write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        (folder / REQUIREMENTS).write_text("".join(f"{r}\n" for r in self.requirements))

    @classmethod
    def load(cls, folder: Path, *, where: str | None = None) -> ModelDescriptor:
        """Read the ``MLmodel`` file of ``folder``.

        Raises:
            InvalidModelError: there is none, or it is not cadenza's.
        """
        path = folder / DESCRIPTOR
        label = where or str(folder)
        if not path.is_file():
            raise InvalidModelError(
                f"{label} holds no saved model (no {DESCRIPTOR} file): give the URI of a "
                "model logged with log_model, such as runs:/RUN_ID/model or "
                "models:/NAME/VERSION.",
                field="model_uri",
            )
        try:
            data = json.loads(path.read_text())
        except ValueError:
            raise InvalidModelError(
                f"The {DESCRIPTOR} file of {label} is not one cadenza wrote (not JSON); "
                "it may come from MLflow: load it with mlflow.",
                field="model_uri",
            ) from None
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})
