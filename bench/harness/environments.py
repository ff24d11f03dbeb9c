"""The interpreter and environment each framework runs with, and the competitors' virtualenvs.

Prefect and MLflow each live in a virtualenv of their own at the repository root
(``.venv-prefect``, ``.venv-mlflow``), created and installed by the harness when missing
or not as pinned. Next to each competitor, the packages its workloads share with
cadenza's are installed at the versions cadenza's environment has, so that both run the
same data and model code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO_ROOT / "bench"
WORKLOADS_DIR = BENCH_DIR / "workloads"
OUT_DIR = BENCH_DIR / "out"

_VERSIONS_SCRIPT = """
import json, platform, sys
from importlib.metadata import PackageNotFoundError, version
def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
for module in json.loads(sys.argv[2]):
    __import__(module)
found = {name: installed(name) for name in json.loads(sys.argv[1])}
print(json.dumps({**found, "python": platform.python_version()}))
"""

_HOME_VARIABLES = {"cadenza": "CADENZA_HOME", "prefect": "PREFECT_HOME"}
_OWN_PREFIXES = ("CADENZA_", "PREFECT_", "MLFLOW_", "BENCH_")
# Python caches bytecode by default; a process told not to compiles every module it imports
# from source, every time, which would add to the start-up of whatever was never cached.
_NOT_INHERITED = {"PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Framework:
    """A framework under test: its name, its interpreter, its package version, and the
    variables its processes always get (``settings``)."""

    name: str
    python: Path
    version: str
    settings: Mapping[str, str] = field(default_factory=dict)

    def environment(self, home: Path) -> dict[str, str]:
        """The process environment: no inherited CADENZA_/PREFECT_/MLFLOW_ settings, a home
        of its own, Python's default bytecode caching, and the framework's ``settings``.

        Prefect gets nothing but PREFECT_HOME, so it runs in its default local mode
        (a temporary API server of its own, SQLite in PREFECT_HOME). MLflow has no
        home variable: its workloads keep their files in the working folder, the home.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_OWN_PREFIXES) and key not in _NOT_INHERITED
        }
        variable = _HOME_VARIABLES.get(self.name)
        if variable:
            env[variable] = str(home)
        env.update(self.settings)
        return env


def plain() -> Framework:
    return Framework("plain", Path(sys.executable), "")


def cadenza() -> Framework:
    from importlib.metadata import version

    return Framework("cadenza", Path(sys.executable), version("cadenza"))


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """The versions of the distributions ``names`` in this (cadenza's) environment, where
    installed."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _release(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split(".")[:2] if part.isdigit())


@dataclass(frozen=True)
class Competitor:
    """A competitor's virtualenv: what is installed there and how it is checked.

    Attributes:
        name: the framework's name, as the workloads take it.
        venv: the virtualenv's folder.
        version: the competitor's pinned version.
        requirements: what pip installs for it, the competitor's own pin first.
        shared: distributions installed at the versions cadenza's environment has
            (those it has), so that both run the same data and model code.
        below: distribution -> the first release the competitor cannot install with;
            a shared distribution whose version in cadenza's environment is not below it
            is left for pip to choose (and the machine table shows which it chose).
        limits: distribution -> a release its version in the virtualenv must stay below.
        imports: modules that must import there for it to be usable.
        settings: variables every process of the competitor gets.
    """

    name: str
    venv: Path
    version: str
    requirements: tuple[str, ...]
    shared: tuple[str, ...]
    below: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    limits: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    imports: tuple[str, ...] = ()
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def pins(self) -> dict[str, str]:
        """Shared distribution -> cadenza's version of it, for those pinned next to it."""
        return {
            name: number
            for name, number in installed_versions(self.shared).items()
            if name not in self.below or _release(number) < self.below[name]
        }

    def all_requirements(self) -> tuple[str, ...]:
        return (*self.requirements, *(f"{name}=={number}" for name, number in self.pins().items()))

    def versions(self) -> dict[str, str | None] | None:
        """Versions of the competitor, its limited and shared distributions and Python in
        its virtualenv; None if it is missing or one of ``imports`` fails to import."""
        if not self.python.exists():
            return None
        names = [self.name, *self.limits, *self.shared]
        done = subprocess.run(
            [str(self.python), "-c", _VERSIONS_SCRIPT, json.dumps(names), json.dumps(self.imports)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        found: dict[str, str | None] = json.loads(done.stdout)
        return found

    def usable(self, versions: dict[str, str | None] | None) -> bool:
        if versions is None or versions.get(self.name) != self.version:
            return False
        if any(versions.get(name) != number for name, number in self.pins().items()):
            return False
        return all(
            (found := versions.get(name)) is not None and _release(found) < limit
            for name, limit in self.limits.items()
        )

    def install(self, log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log:
            if not self.python.exists():
                subprocess.run(
                    [sys.executable, "-m", "venv", str(self.venv)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=True,
                )
            subprocess.run(
                [
                    str(self.python),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    *self.all_requirements(),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )

    def framework(self, log_path: Path) -> tuple[Framework, dict[str, str | None]]:
        """The competitor in its virtualenv, installed there first if missing or not as
        pinned; and the versions found there."""
        versions = self.versions()
        if not self.usable(versions):
            print(
                f"Installing {' '.join(self.all_requirements())} into {self.venv.name} "
                "(a minute or two; log in bench/out/) ...",
                flush=True,
            )
            self.install(log_path)
            versions = self.versions()
            if not self.usable(versions):
                raise RuntimeError(
                    f"{self.name} {self.version} is not usable in {self.venv.name} after "
                    f"installing it; see bench/out/{log_path.name}."
                )
        assert versions is not None
        return Framework(self.name, self.python, self.version, self.settings), versions


# The caching workloads hash DataFrames and arrays: next to Prefect, the same versions of
# these as in cadenza's environment, so that both hash the same data the same way.
DATA_PACKAGES = ("numpy", "pandas", "pyarrow")
PREFECT = Competitor(
    name="prefect",
    venv=REPO_ROOT / ".venv-prefect",
    version="3.8.8",
    # Prefect 3.8.8 passes ``min_items=`` to ``fastapi.Body``, which FastAPI 0.155 dropped.
    requirements=("prefect==3.8.8", "fastapi<0.155"),
    shared=DATA_PACKAGES,
    limits={"fastapi": (0, 155)},
    imports=("prefect", "fastapi"),
)
# The registry workload trains and predicts with XGBoost on pandas frames: next to MLflow,
# the versions of cadenza's environment (xgboost-cpu is the same ``import xgboost``).
MODEL_PACKAGES = ("numpy", "pandas", "pyarrow", "scikit-learn", "xgboost", "xgboost-cpu")
MLFLOW = Competitor(
    name="mlflow",
    venv=REPO_ROOT / ".venv-mlflow",
    # 3.18.0 needs an mlflow-skinny release the package registry does not have.
    version="3.17.2",
    requirements=("mlflow==3.17.2",),
    shared=MODEL_PACKAGES,
    # mlflow 3.17.2 requires pyarrow<26; the model code does not use pyarrow.
    below={"pyarrow": (26,)},
    imports=("mlflow", "xgboost"),
    # Its telemetry would reach out of the machine.
    settings={"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
)
