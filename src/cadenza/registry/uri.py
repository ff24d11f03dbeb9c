"""Model URIs: ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``models:/NAME/STAGE``,
``models:/NAME/latest``, ``runs:/RUN_ID/PATH``, and a local folder (a path or
``file://`` URL) holding a saved model."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import unquote, urlparse

from cadenza.exceptions import InvalidModelError
from cadenza.registry.entities import STAGES

FORMS = (
    "models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/STAGE (Staging, Production...), "
    "models:/NAME/latest, runs:/RUN_ID/PATH, or the path of a folder holding a saved model"
)


@dataclasses.dataclass(frozen=True, slots=True)
class ModelsUri:
    """``models:/...``: one of ``version``, ``alias``, ``stage`` or ``latest``."""

    name: str
    version: int | None = None
    alias: str | None = None
    stage: str | None = None
    latest: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RunsUri:
    """``runs:/RUN_ID/PATH``: a model logged by a run under ``path``."""

    run_id: str
    path: str


@dataclasses.dataclass(frozen=True, slots=True)
class LocalUri:
    """A folder on this machine."""

    path: Path


def _bad(uri: str, why: str) -> InvalidModelError:
    return InvalidModelError(f"{uri!r} is not a model URI: {why}. Use {FORMS}.", field="model_uri")


def parse(uri: str) -> ModelsUri | RunsUri | LocalUri:
    """The parts of a model URI.

    Raises:
        InvalidModelError: ``uri`` is of none of the forms, saying which exist.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise _bad(str(uri), "it is empty")
    text = uri.strip()
    if text.startswith("models:"):
        return _models(uri, text.removeprefix("models:").lstrip("/"))
    if text.startswith("runs:"):
        rest = text.removeprefix("runs:").lstrip("/")
        run_id, _, path = rest.partition("/")
        path = path.strip("/")
        if not run_id:
            raise _bad(uri, "it names no run")
        if not path:
            raise _bad(uri, "it names no path inside the run (runs:/RUN_ID/model)")
        return RunsUri(run_id, path)
    if text.startswith("file:"):
        return LocalUri(Path(unquote(urlparse(text).path)))
    if "://" in text or (":" in text.split("/")[0] and not Path(text).exists()):
        raise _bad(uri, f"cadenza does not read {text.split(':')[0]}: URIs")
    return LocalUri(Path(text).expanduser())


def _models(uri: str, rest: str) -> ModelsUri:
    if "@" in rest:
        name, _, alias = rest.partition("@")
        if not name or not alias or "/" in alias:
            raise _bad(uri, "an alias URI is models:/NAME@ALIAS")
        return ModelsUri(name, alias=alias)
    name, _, which = rest.rpartition("/")
    if not name or not which:
        raise _bad(
            uri, "it names no version, alias or stage (models:/NAME/3, models:/NAME@champion)"
        )
    if which.isdigit():
        return ModelsUri(name, version=int(which))
    if which.lower() == "latest":
        return ModelsUri(name, latest=True)
    for stage in STAGES:
        if which.lower() == stage.lower():
            return ModelsUri(name, stage=stage)
    raise _bad(uri, f"{which!r} is neither a version number, 'latest', nor a stage")
