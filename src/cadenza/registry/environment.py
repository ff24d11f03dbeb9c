"""What a saved model records of where it was made: pinned requirements (read from the
installed distributions, never by a subprocess) and the git commit of the code."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

BASE_PACKAGES = ("cloudpickle", "numpy", "pandas")
"""Needed to load any model; every model's requirements pin them."""


@functools.cache
def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def pinned(distributions: Iterable[str]) -> list[str]:
    """``name==version`` for each installed distribution of ``distributions`` and of
    :data:`BASE_PACKAGES` (once each, in order); those not installed are left out.

    For a list of alternatives (``"xgboost|xgboost-cpu"``), the first installed one.
    """
    out: dict[str, str] = {}
    for entry in [*distributions, *BASE_PACKAGES]:
        for name in entry.split("|"):
            version = installed_version(name)
            if version is not None:
                out.setdefault(name, f"{name}=={version}")
                break
    return list(out.values())


def git_commit(start: Path) -> str | None:
    """The commit checked out in the git repository holding ``start``, or None outside
    one. Read from the repository's files (``HEAD``, refs, ``packed-refs``)."""
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        dot_git = candidate / ".git"
        if dot_git.exists():
            try:
                return _head_commit(dot_git)
            except OSError:
                return None
    return None


def _head_commit(dot_git: Path) -> str | None:
    git_dir = dot_git
    if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = dot_git.read_text().strip()
        if not text.startswith("gitdir:"):
            return None
        git_dir = (dot_git.parent / text.removeprefix("gitdir:").strip()).resolve()
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return head or None
    ref = head.removeprefix("ref:").strip()
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text().strip()).resolve()
    for base in (git_dir, common):
        loose = base / ref
        if loose.is_file():
            return loose.read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref:
                return sha
    return None
