"""Where results are kept: a local folder or any fsspec URL.

The default is ``CADENZA_HOME/results``. ``result_storage="s3://bucket/prefix"``
(or ``gs://``, ``az://``, ``memory://``...) uses that filesystem through fsspec,
which is imported only then.

Writes are atomic: a result is written under a temporary name and renamed into
place, so a reader never sees half a file and two processes writing the same key
at once both succeed (one of the two complete files wins).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from cadenza.utilities.ids import uuid7


class ResultStorage:
    """A folder of result files, local or remote.

    Args:
        url: a local path or an fsspec URL.
    """

    def __init__(self, url: str | Path) -> None:
        self.url = str(url)
        self._local = "://" not in self.url or self.url.startswith("file://")
        self._root = self.url[len("file://") :] if self.url.startswith("file://") else self.url
        self._fs: Any = None
        self._lock = threading.Lock()

    @property
    def is_local(self) -> bool:
        return self._local

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            with self._lock:
                if self._fs is None:
                    import fsspec

                    fs, root = fsspec.core.url_to_fs(self.url)
                    self._root = root.rstrip("/")
                    self._fs = fs
        return self._fs, self._root

    def location(self, key: str) -> str:
        """The full location of ``key``, as recorded on the task run."""
        if self._local:
            return str(Path(self._root) / key)
        return f"{self.url.rstrip('/')}/{key}"

    def write(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key`` atomically; returns its location."""
        if self._local:
            target = Path(self._root) / key
            target.parent.mkdir(parents=True, exist_ok=True)
            scratch = target.with_name(f".{target.name}.{uuid7()}.tmp")
            try:
                with open(scratch, "wb") as f:
                    f.write(data)
                os.replace(scratch, target)
            finally:
                if scratch.exists():
                    scratch.unlink()
            return str(target)
        fs, root = self._filesystem()
        path = f"{root}/{key}"
        tmp = f"{root}/.{key}.{uuid7()}.tmp"
        fs.pipe_file(tmp, data)
        try:
            fs.mv(tmp, path)
        except Exception:
            fs.pipe_file(path, data)  # stores without rename: a single put is atomic
            try:
                fs.rm_file(tmp)
            except Exception:
                pass
        return self.location(key)

    def read(self, key: str) -> bytes | None:
        """The bytes stored under ``key``, or None if there are none.

        Raises:
            OSError: the storage could not be read (permissions, network).
        """
        if self._local:
            try:
                with open(Path(self._root) / key, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None
        fs, root = self._filesystem()
        try:
            data = fs.cat_file(f"{root}/{key}")
        except FileNotFoundError:
            return None
        return bytes(data)

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""
        if self._local:
            try:
                (Path(self._root) / key).unlink()
            except FileNotFoundError:
                pass
            return
        fs, root = self._filesystem()
        try:
            fs.rm_file(f"{root}/{key}")
        except FileNotFoundError:
            pass

    def __repr__(self) -> str:
        return f"ResultStorage({self.url!r})"
