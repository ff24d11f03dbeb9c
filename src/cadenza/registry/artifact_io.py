"""Where the files of logged models go: the run's artifacts.

The only glue between the registry and artifact storage: :func:`upload` stores a
saved model's folder as artifacts of a run, :func:`download` brings them back into a
local folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _root() -> Path:
    from cadenza.settings import get_settings

    return get_settings().home / "artifacts"


def _local(run_id: str, path: str) -> Path:
    return _root() / run_id / path


def upload(local_dir: Path, run_id: str, artifact_path: str) -> None:
    """Store the files of ``local_dir`` as the artifacts of ``run_id`` under
    ``artifact_path`` (replacing what was there)."""
    target = _local(run_id, artifact_path)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(local_dir, target)


def download(run_id: str, artifact_path: str, dst: Path) -> Path:
    """Copy the artifacts of ``run_id`` under ``artifact_path`` into ``dst``; returns the
    folder holding them.

    Raises:
        InvalidModelError: the run has no artifacts there.
    """
    from cadenza.exceptions import InvalidModelError

    source = _local(run_id, artifact_path)
    if not source.is_dir():
        raise InvalidModelError(
            f"Run {run_id} has no model at {artifact_path!r}: no artifacts were logged "
            "there. Check the run id and the name given to log_model.",
            field="model_uri",
        )
    target = dst / Path(artifact_path).name
    shutil.copytree(source, target)
    return target
