"""Where the files of logged models go: the run's artifacts, through the tracking
artifact functions (a local folder or fsspec URL, or the server's artifact store with
``CADENZA_API_URL`` set).

The only glue between the registry and artifact storage: :func:`upload` stores a
saved model's folder as artifacts of the current run, :func:`download` brings them
back into a local folder.
"""

from __future__ import annotations

from pathlib import Path


def upload(local_dir: Path, artifact_path: str) -> None:
    """Store the files of ``local_dir`` as the artifacts of the current run (task run,
    else flow run) under ``artifact_path``."""
    from cadenza.tracking.artifacts import log_artifacts

    log_artifacts(local_dir, artifact_path)


def download(run_id: str, artifact_path: str, dst: Path) -> Path:
    """Copy the artifacts of ``run_id`` under ``artifact_path`` into ``dst``; returns the
    folder holding them.

    Raises:
        InvalidModelError: the run has no artifacts there.
    """
    from cadenza.exceptions import InvalidModelError
    from cadenza.tracking.artifacts import download_artifacts
    from cadenza.tracking.errors import ArtifactNotFound

    try:
        return download_artifacts(run_id, artifact_path, dst)
    except ArtifactNotFound:
        raise InvalidModelError(
            f"Run {run_id} has no model at {artifact_path!r}: no artifacts were logged "
            "there. Check the run id and the name given to log_model.",
            field="model_uri",
        ) from None
