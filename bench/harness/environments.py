"""The interpreter and environment each framework runs with, and Prefect's own virtualenv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO_ROOT / "bench"
WORKLOADS_DIR = BENCH_DIR / "workloads"
OUT_DIR = BENCH_DIR / "out"

PREFECT_VENV = REPO_ROOT / ".venv-prefect"
PREFECT_VERSION = "3.8.8"
# Prefect 3.8.8 passes ``min_items=`` to ``fastapi.Body``, which FastAPI 0.155 dropped.
FASTAPI_LIMIT = (0, 155)
PREFECT_REQUIREMENTS = (f"prefect=={PREFECT_VERSION}", "fastapi<0.155")
# The caching workloads hash DataFrames and arrays: next to Prefect, the same versions of
# these as in cadenza's environment, so that both hash the same data the same way.
DATA_PACKAGES = ("numpy", "pandas", "pyarrow")

_VERSIONS_SCRIPT = f"""
import json, platform, prefect, fastapi
from importlib.metadata import version, PackageNotFoundError
def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
print(json.dumps({{"prefect": prefect.__version__, "fastapi": fastapi.__version__,
                  "python": platform.python_version(),
                  **{{name: installed(name) for name in {DATA_PACKAGES!r}}}}}))
"""

_HOME_VARIABLES = {"cadenza": "CADENZA_HOME", "prefect": "PREFECT_HOME"}
# Python caches bytecode by default; a process told not to compiles every module it imports
# from source, every time, which would add to the start-up of whatever was never cached.
_NOT_INHERITED = {"PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Framework:
    """A framework under test: its name, its interpreter and its package version."""

    name: str
    python: Path
    version: str

    def environment(self, home: Path) -> dict[str, str]:
        """The process environment: no inherited CADENZA_/PREFECT_ settings, a home of its own,
        Python's default bytecode caching.

        Prefect gets nothing but PREFECT_HOME, so it runs in its default local mode
        (a temporary API server of its own, SQLite in PREFECT_HOME).
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CADENZA_", "PREFECT_", "BENCH_")) and key not in _NOT_INHERITED
        }
        variable = _HOME_VARIABLES.get(self.name)
        if variable:
            env[variable] = str(home)
        return env


def plain() -> Framework:
    return Framework("plain", Path(sys.executable), "")


def cadenza() -> Framework:
    from importlib.metadata import version

    return Framework("cadenza", Path(sys.executable), version("cadenza"))


def _prefect_python() -> Path:
    return PREFECT_VENV / "bin" / "python"


def prefect_versions() -> dict[str, str] | None:
    """Versions of prefect, fastapi, Python and the data packages in ``.venv-prefect``.

    None if it is missing or Prefect cannot be imported there.
    """
    python = _prefect_python()
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", _VERSIONS_SCRIPT], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return None
    return json.loads(done.stdout)


def data_versions() -> dict[str, str]:
    """The versions of ``DATA_PACKAGES`` in this (cadenza's) environment, where installed."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in DATA_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _requirements() -> tuple[str, ...]:
    pins = (f"{name}=={number}" for name, number in data_versions().items())
    return (*PREFECT_REQUIREMENTS, *pins)


def _usable(versions: dict[str, str] | None) -> bool:
    if versions is None or versions["prefect"] != PREFECT_VERSION:
        return False
    if any(versions.get(name) != number for name, number in data_versions().items()):
        return False
    fastapi = tuple(int(part) for part in versions["fastapi"].split(".")[:2])
    return fastapi < FASTAPI_LIMIT


def prefect(log_path: Path) -> tuple[Framework, dict[str, str]]:
    """Prefect in ``.venv-prefect`` at the repository root, installed there first if missing."""
    versions = prefect_versions()
    if not _usable(versions):
        print(
            f"Installing {' '.join(_requirements())} into .venv-prefect "
            "(about a minute; log in bench/out/) ...",
            flush=True,
        )
        _install_prefect(log_path)
        versions = prefect_versions()
        if not _usable(versions):
            raise RuntimeError(
                f"prefect {PREFECT_VERSION} is not usable in .venv-prefect after installing it; "
                f"see bench/out/{log_path.name}."
            )
    assert versions is not None
    return Framework("prefect", _prefect_python(), versions["prefect"]), versions


def _install_prefect(log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        if not _prefect_python().exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(PREFECT_VENV)],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        subprocess.run(
            [
                str(_prefect_python()),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                *_requirements(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
