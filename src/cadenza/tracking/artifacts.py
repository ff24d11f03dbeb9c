"""The artifact store: files that runs log (models, plots, reports, data samples).

Files are kept under a root, ``CADENZA_ARTIFACT_ROOT`` (by default the folder
``CADENZA_HOME/artifacts``; any fsspec URL such as ``s3://bucket/prefix`` or
``memory://`` works too), laid out as ``<root>/<run_id>/<artifact_path>/<file>``.
With ``CADENZA_API_URL`` set, files go to the server's artifact store through its
API (``PUT``/``GET /api/runs/{run_id}/artifacts/{path}``), so a client needs no
access to the server's storage.

Example::

    import cadenza

    @cadenza.task
    def train() -> None:
        model_file = save_model()
        cadenza.log_artifact(model_file, artifact_path="model")

    files = cadenza.tracking.artifacts.list_artifacts(run_id, "model")
    local = cadenza.tracking.artifacts.download_artifacts(run_id, "model")
"""

from __future__ import annotations

import abc
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from cadenza.tracking.current import current_reporter, current_run_id
from cadenza.tracking.errors import ArtifactNotFound, InvalidArtifactPath
from cadenza.utilities.ids import uuid7

if TYPE_CHECKING:
    from cadenza.settings import Settings

__all__ = [
    "ArtifactFile",
    "ArtifactStore",
    "FsspecArtifactStore",
    "artifact_uri",
    "download_artifacts",
    "get_artifact_store",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
]

CHUNK = 1024 * 1024
"""Bytes read or written at a time when copying a file."""

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArtifactFile(NamedTuple):
    """A file or folder among a run's artifacts."""

    path: str
    """Its path under the run's root, with forward slashes (``model/model.pkl``)."""
    is_dir: bool
    size: int | None
    """Bytes of a file; None for a folder."""


# -- paths -------------------------------------------------------------------------------
def validate_path(path: str | None, what: str = "artifact_path") -> str:
    """``path`` as stored: relative, with forward slashes, no empty or ``.`` parts.

    ``None`` and ``""`` stand for the run's root and give ``""``.

    Raises:
        InvalidArtifactPath: ``path`` is not a str, is absolute, has a ``..`` part, a
            backslash or a NUL character.
    """
    if path is None:
        return ""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise InvalidArtifactPath(
            f"{what} must be a str (a relative path such as 'model' or 'plots/loss.png'), "
            f"not a {type(path).__name__}."
        )
    problem = None
    if "\x00" in path:
        problem = "contains a NUL character"
    elif "\\" in path:
        problem = "contains a backslash; separate folders with '/'"
    elif path.startswith("/") or _DRIVE.match(path):
        problem = "is absolute"
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if problem is None and ".." in parts:
        problem = "has a '..' part, which would leave the run's folder"
    if problem is not None:
        raise InvalidArtifactPath(
            f"The {what} {path[:200]!r} {problem}: give a path relative to the run's "
            "artifacts, such as 'model' or 'plots/loss.png'."
        )
    return "/".join(parts)


def validate_run_id(run_id: Any) -> str:
    """``run_id`` if it can name a folder of the artifact store.

    Raises:
        InvalidArtifactPath: it is not a run id (letters, digits, ``-`` and ``_``).
    """
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise InvalidArtifactPath(
            f"{run_id!r:.80} is not a run id: give the id of a flow run or task run "
            "(letters, digits and dashes, such as 0190a1b2-...)."
        )
    return run_id


def join(*parts: str) -> str:
    """Artifact path parts joined with ``/``, empty parts left out."""
    return "/".join(p for p in parts if p)


# -- the store interface -----------------------------------------------------------------
class ArtifactStore(abc.ABC):
    """Where the artifact files of runs are kept.

    Paths are relative to a run's root and validated by the caller
    (:func:`validate_path`); ``""`` is the run's root.
    """

    @abc.abstractmethod
    def uri(self, run_id: str, path: str) -> str:
        """The location of ``path`` of the run (a local path or a URL); it need not exist."""

    @abc.abstractmethod
    def upload(self, run_id: str, path: str, source: BinaryIO) -> None:
        """Store the bytes read from ``source`` as the file ``path`` of the run.

        Replaces a file of that path; the file appears whole or not at all.

        Raises:
            InvalidArtifactPath: ``path`` is empty or a folder of the run.
            OSError: the storage could not be written.
        """

    @abc.abstractmethod
    def stat(self, run_id: str, path: str) -> ArtifactFile | None:
        """The file or folder at ``path`` of the run, or None if there is none.

        ``""`` gives a folder when the run has artifacts, else None.
        """

    @abc.abstractmethod
    def list(self, run_id: str, path: str = "", *, recursive: bool = False) -> list[ArtifactFile]:
        """The files and folders directly in the folder ``path`` of the run, by path.

        With ``recursive``, every file below it instead (no folders). Returns an empty
        list when there is no such folder or when ``path`` is a file.
        """

    @abc.abstractmethod
    def open(self, run_id: str, path: str) -> BinaryIO:
        """The file ``path`` of the run, open for reading in binary mode.

        Raises:
            ArtifactNotFound: there is no file at ``path``.
        """

    def download(self, run_id: str, path: str, dst: Path) -> Path:
        """Copy the file or folder ``path`` of the run into the local folder ``dst``.

        Returns the local copy: ``dst/<last part of path>`` (``dst`` itself for the
        run's root).

        Raises:
            ArtifactNotFound: there is nothing at ``path``.
        """
        found = self.stat(run_id, path)
        if found is None:
            raise ArtifactNotFound(
                f"Run {run_id} has no artifact at {path!r}"
                + (
                    "."
                    if path
                    else " (it logged no files)."
                    " List them with cadenza.tracking.artifacts.list_artifacts(run_id)."
                )
            )
        dst.mkdir(parents=True, exist_ok=True)
        target = dst / path.rsplit("/", 1)[-1] if path else dst
        if not found.is_dir:
            self._copy_out(run_id, path, target)
            return target
        prefix = f"{path}/" if path else ""
        for f in self.list(run_id, path, recursive=True):
            self._copy_out(run_id, f.path, target / f.path[len(prefix) :])
        target.mkdir(parents=True, exist_ok=True)
        return target

    def _copy_out(self, run_id: str, path: str, target: Path) -> None:
        import shutil

        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(f".{target.name}.{uuid7()}.part")
        try:
            with self.open(run_id, path) as src, open(scratch, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            os.replace(scratch, target)
        finally:
            if scratch.exists():
                scratch.unlink()


class FsspecArtifactStore(ArtifactStore):
    """Artifacts in a local folder or under any fsspec URL.

    Args:
        root: a local path, a ``file://`` URL, or another fsspec URL (``s3://...``,
            ``memory://...``); fsspec is imported on first use.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = str(root)
        self._fs: Any = None
        self._base = ""
        self._lock = threading.Lock()
        self._local = "://" not in self.root or self.root.startswith("file://")

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            with self._lock:
                if self._fs is None:
                    import fsspec

                    fs, base = fsspec.core.url_to_fs(self.root)
                    self._base = base.rstrip("/")
                    self._fs = fs
        return self._fs, self._base

    def _full(self, run_id: str, path: str) -> tuple[Any, str]:
        fs, base = self._filesystem()
        return fs, join(base, validate_run_id(run_id), path) if base else join(run_id, path)

    def uri(self, run_id: str, path: str) -> str:
        validate_run_id(run_id)
        if self._local:
            root = self.root.removeprefix("file://")
            return str(Path(root).expanduser().absolute().joinpath(run_id, *path.split("/")))
        return join(self.root.rstrip("/"), run_id, path)

    def upload(self, run_id: str, path: str, source: BinaryIO) -> None:
        if not path:
            raise InvalidArtifactPath("An artifact file needs a path under the run's root.")
        import shutil

        fs, full = self._full(run_id, path)
        if fs.isdir(full):
            raise InvalidArtifactPath(
                f"Run {run_id} has a folder of artifacts at {path!r}; a file cannot replace it."
            )
        parent, _, name = full.rpartition("/")
        fs.makedirs(parent, exist_ok=True)
        scratch = f"{parent}/.{name}.{uuid7()}.part"
        try:
            with fs.open(scratch, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            fs.mv(scratch, full)
        finally:
            if fs.exists(scratch):
                fs.rm_file(scratch)

    def stat(self, run_id: str, path: str) -> ArtifactFile | None:
        fs, full = self._full(run_id, path)
        try:
            info = fs.info(full)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if info.get("type") == "directory":
            return ArtifactFile(path, True, None)
        return ArtifactFile(path, False, int(info.get("size") or 0))

    def list(self, run_id: str, path: str = "", *, recursive: bool = False) -> list[ArtifactFile]:
        fs, full = self._full(run_id, path)
        try:
            if not fs.isdir(full):
                return []
            entries = fs.find(full, detail=True) if recursive else fs.ls(full, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        if isinstance(entries, dict):
            entries = list(entries.values())
        out = []
        strip = len(full.rstrip("/")) + 1
        for e in entries:
            name = str(e["name"]).rstrip("/")
            relative = name[strip:] if name.startswith(full.rstrip("/") + "/") else ""
            if not relative or relative.rsplit("/", 1)[-1].endswith(".part"):
                continue
            is_dir = e.get("type") == "directory"
            if recursive and is_dir:
                continue
            size = None if is_dir else int(e.get("size") or 0)
            out.append(ArtifactFile(join(path, relative), is_dir, size))
        out.sort(key=lambda f: f.path)
        return out

    def open(self, run_id: str, path: str) -> BinaryIO:
        fs, full = self._full(run_id, path)
        try:
            if path and not fs.isdir(full):
                f: BinaryIO = fs.open(full, "rb")
                return f
        except (FileNotFoundError, NotADirectoryError):
            pass
        raise ArtifactNotFound(f"Run {run_id} has no artifact file at {path!r}.")

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.root!r})"


# -- which store -------------------------------------------------------------------------
_stores: dict[str, ArtifactStore] = {}
_stores_lock = threading.Lock()


def get_artifact_store(settings: Settings | None = None) -> ArtifactStore:
    """The artifact store of the settings: the server's when ``CADENZA_API_URL`` is
    set, else the one at ``CADENZA_ARTIFACT_ROOT`` (by default ``CADENZA_HOME/artifacts``)."""
    if settings is None:
        from cadenza.settings import get_settings

        settings = get_settings()
    if settings.api_url:
        from cadenza.client.http_tracking import HttpArtifactStore

        return HttpArtifactStore(settings.api_url, settings.api_key)
    root = settings.resolved_artifact_root
    store = _stores.get(root)
    if store is None:
        with _stores_lock:
            store = _stores.setdefault(root, FsspecArtifactStore(root))
    return store


def resolve_run(run_id: str | None, what: str) -> str:
    """``run_id``, or the current run's id; with a server, the current run is delivered
    to it first (a server records files only for runs it knows)."""
    if run_id is not None:
        return validate_run_id(run_id)
    run_id = current_run_id(what)
    from cadenza.settings import get_settings

    reporter = current_reporter()
    if reporter is not None and get_settings().api_url:
        reporter.flush()
    return run_id


def _local_file(local_path: str | os.PathLike[str], what: str) -> Path:
    path = Path(local_path).expanduser()
    if not path.is_file():
        kind = "a folder (use log_artifacts for folders)" if path.is_dir() else "no file"
        raise InvalidArtifactPath(f"{what}: {str(path)!r} is {kind}; give the path of a file.")
    return path


# -- the functions -----------------------------------------------------------------------
def put_file(
    store: ArtifactStore,
    run_id: str,
    local_path: str | os.PathLike[str],
    artifact_path: str | None,
    what: str = "log_artifact",
) -> None:
    """Copy a local file to ``<artifact_path>/<its name>`` of a run in ``store``.

    Raises:
        InvalidArtifactPath: ``local_path`` is not a file or ``artifact_path`` not valid.
    """
    folder = validate_path(artifact_path)
    source = _local_file(local_path, what)
    with open(source, "rb") as f:
        store.upload(validate_run_id(run_id), join(folder, source.name), f)


def put_dir(
    store: ArtifactStore,
    run_id: str,
    local_dir: str | os.PathLike[str],
    artifact_path: str | None,
) -> None:
    """Copy every file below a local folder to ``artifact_path`` of a run in ``store``.

    Raises:
        InvalidArtifactPath: ``local_dir`` is not a folder or ``artifact_path`` not valid.
    """
    folder = validate_path(artifact_path)
    root = _local_dir(local_dir)
    for file in _files_below(root):
        relative = file.relative_to(root).as_posix()
        with open(file, "rb") as f:
            store.upload(validate_run_id(run_id), join(folder, relative), f)


def _local_dir(local_dir: str | os.PathLike[str]) -> Path:
    root = Path(local_dir).expanduser()
    if not root.is_dir():
        raise InvalidArtifactPath(
            f"log_artifacts: {str(root)!r} is not a folder; give a folder "
            "(use log_artifact for a single file)."
        )
    return root


def log_artifact(
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy a local file into the artifacts of a run, under ``artifact_path``.

    Args:
        local_path: the file to copy.
        artifact_path: the folder to put it in, relative to the run's root (by default
            the root): the file becomes ``<artifact_path>/<its name>``.
        run_id: the run; by default the current task run, else the current flow run.

    Raises:
        NoActiveRun: no ``run_id`` was given and the caller is in no run.
        InvalidArtifactPath: ``local_path`` is not a file, or ``artifact_path`` is
            absolute or has a ``..`` part.
    """
    validate_path(artifact_path)
    _local_file(local_path, "log_artifact")
    put_file(get_artifact_store(), resolve_run(run_id, "log_artifact"), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    run_id: str | None = None,
) -> None:
    """Copy every file of a local folder (and of its subfolders) into a run's artifacts.

    The folder's contents go under ``artifact_path`` (by default the run's root):
    ``local_dir/a/b.txt`` becomes ``<artifact_path>/a/b.txt``.

    Raises:
        NoActiveRun: no ``run_id`` was given and the caller is in no run.
        InvalidArtifactPath: ``local_dir`` is not a folder, or ``artifact_path`` is
            absolute or has a ``..`` part.
    """
    validate_path(artifact_path)
    _local_dir(local_dir)
    put_dir(get_artifact_store(), resolve_run(run_id, "log_artifacts"), local_dir, artifact_path)


def _files_below(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(folder) / name


def list_artifacts(run_id: str, path: str | None = None) -> list[ArtifactFile]:
    """The files and folders directly in the folder ``path`` of a run's artifacts.

    Paths in the result are relative to the run's root. Returns an empty list when
    the run logged no files there.

    Raises:
        InvalidArtifactPath: ``path`` is absolute or has a ``..`` part.
    """
    return get_artifact_store().list(validate_run_id(run_id), validate_path(path, "path"))


def download_artifacts(
    run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
) -> Path:
    """A local copy of a file or folder of a run's artifacts.

    Args:
        run_id: the run.
        path: the file or folder, relative to the run's root (``""``: everything).
        dst_path: a local folder to copy into; by default a new temporary folder.

    Returns:
        The local path of the copy: ``dst_path/<last part of path>``.

    Raises:
        ArtifactNotFound: the run has nothing at ``path``.
        InvalidArtifactPath: ``path`` is absolute or has a ``..`` part.
    """
    return fetch(get_artifact_store(), run_id, path, dst_path)


def fetch(
    store: ArtifactStore, run_id: str, path: str, dst_path: str | os.PathLike[str] | None
) -> Path:
    """:func:`download_artifacts` from ``store``."""
    relative = validate_path(path, "path")
    run = validate_run_id(run_id)
    if dst_path is None:
        import tempfile

        dst = Path(tempfile.mkdtemp(prefix="cadenza-artifacts-"))
    else:
        dst = Path(dst_path).expanduser()
    return store.download(run, relative, dst)


def artifact_uri(run_id: str | None = None, path: str | None = None) -> str:
    """Where the artifact ``path`` of a run is (or would be) stored.

    A local path or an fsspec URL; with ``CADENZA_API_URL`` set, the URL of the file
    on the server's API.

    Args:
        run_id: the run; by default the current task run, else the current flow run.
        path: a path relative to the run's root (by default the root).

    Raises:
        NoActiveRun: no ``run_id`` was given and the caller is in no run.
    """
    relative = validate_path(path, "path")
    run = validate_run_id(run_id) if run_id is not None else current_run_id("artifact_uri")
    return get_artifact_store().uri(run, relative)
