"""``cadenza.yaml``: the deployments of a project, for ``cadenza deploy --all``.

.. code-block:: yaml

    deployments:
      - name: monthly
        entrypoint: pipelines/train.py:monthly_training
        work_pool: training          # or {name: training, work_queue_name: gpu}
        parameters: {year: 2024}
        tags: [taxi]
        schedules:
          - cron: "0 9 3 * *"
            timezone: Europe/Zurich
        catchup: latest
        concurrency_limit: 1

Entrypoints and paths are relative to the folder of the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadenza.exceptions import DeploymentError

FILE_NAME = "cadenza.yaml"
_KEYS = {
    "name",
    "entrypoint",
    "work_pool",
    "parameters",
    "tags",
    "description",
    "version",
    "schedules",
    "cron",
    "interval",
    "rrule",
    "timezone",
    "paused",
    "concurrency_limit",
    "catchup",
    "path",
}


@dataclasses.dataclass
class DeploymentSpec:
    """One deployment of ``cadenza.yaml``, read and checked, not yet deployed."""

    name: str
    entrypoint: str
    work_pool_name: str
    work_queue_name: str
    path: Path
    options: dict[str, Any]
    """The other keyword arguments of :func:`~cadenza.deploy.deployments.build_deployment`."""


def find_config(start: Path | None = None) -> Path | None:
    """The ``cadenza.yaml`` of the current folder or of the nearest folder above it."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / FILE_NAME
        if path.is_file():
            return path
    return None


def load_config(path: Path) -> list[DeploymentSpec]:
    """The deployments of a ``cadenza.yaml``.

    Raises:
        DeploymentError: the file cannot be read or parsed, or a deployment in it is
            invalid (the message names the file, the deployment and the key).
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeploymentError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except yaml.YAMLError as exc:
        raise DeploymentError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("deployments"), list):
        raise DeploymentError(
            f"{path} must hold a list under 'deployments:' (see docs/deployments.md)."
        )
    specs = [_spec(path, i, d) for i, d in enumerate(data["deployments"])]
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DeploymentError(f"{path}: deployment names must be unique; {twice[0]!r} repeats.")
    return specs


def _spec(path: Path, index: int, d: Any) -> DeploymentSpec:
    where = f"{path}, deployment {index + 1}"
    if not isinstance(d, Mapping):
        raise DeploymentError(f"{where}: expected a mapping with name, entrypoint, work_pool.")
    name = d.get("name")
    if isinstance(name, str):
        where = f"{path}, deployment {name!r}"
    unknown = sorted(set(d) - _KEYS)
    if unknown:
        raise DeploymentError(
            f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(_KEYS))}."
        )
    for key in ("name", "entrypoint", "work_pool"):
        if not d.get(key):
            raise DeploymentError(f"{where}: {key!r} is missing.")
    pool = d["work_pool"]
    queue = "default"
    if isinstance(pool, Mapping):
        queue = str(pool.get("work_queue_name") or "default")
        pool = pool.get("name")
    if not isinstance(pool, str) or not pool:
        raise DeploymentError(
            f"{where}: work_pool is a name, or {{name: ..., work_queue_name: ...}}."
        )
    folder = path.parent
    options: dict[str, Any] = {}
    for key in ("description", "version", "paused", "concurrency_limit", "catchup"):
        if key in d:
            options[key] = d[key]
    if "parameters" in d:
        if not isinstance(d["parameters"], Mapping):
            raise DeploymentError(f"{where}: parameters must be a mapping.")
        options["parameters"] = dict(d["parameters"])
    if "tags" in d:
        tags = d["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise DeploymentError(f"{where}: tags must be a list of texts.")
        options["tags"] = tags
    options["schedules"] = _schedules(where, d)
    return DeploymentSpec(
        name=str(name),
        entrypoint=str(d["entrypoint"]),
        work_pool_name=pool,
        work_queue_name=queue,
        path=(folder / str(d.get("path") or ".")).resolve(),
        options=options,
    )


def _schedules(where: str, d: Mapping[str, Any]) -> list[Any]:
    from cadenza.deploy.deployments import DeploymentSchedule
    from cadenza.deploy.schedules import schedule_from_dict
    from cadenza.exceptions import ScheduleError

    items = list(d.get("schedules") or [])
    if not isinstance(d.get("schedules", []), list):
        raise DeploymentError(f"{where}: schedules must be a list.")
    for key in ("cron", "interval", "rrule"):
        if key in d:
            items.append({key: d[key], "timezone": d.get("timezone") or "UTC"})
    out = []
    for item in items:
        if isinstance(item, Mapping) and "timezone" not in item and d.get("timezone"):
            item = {**item, "timezone": d["timezone"]}
        try:
            schedule, active = schedule_from_dict(item)
        except ScheduleError as exc:
            raise DeploymentError(f"{where}: {exc}") from None
        out.append(DeploymentSchedule(schedule, active=active))
    return out


def deploy_spec(spec: DeploymentSpec, store: Any = None) -> Any:
    """Import the flow of ``spec``, then deploy it; returns the saved deployment.

    Raises:
        EntrypointError: the flow cannot be imported.
        DeploymentError, ParameterTypeError: the deployment is invalid.
    """
    from cadenza.deploy.deployments import build_deployment, save_and_schedule

    flow = load_deploy_flow(spec.entrypoint, spec.path)
    deployment = build_deployment(
        flow,
        spec.name,
        work_pool_name=spec.work_pool_name,
        work_queue_name=spec.work_queue_name,
        entrypoint=spec.entrypoint,
        path=spec.path,
        **spec.options,
    )
    return save_and_schedule(deployment, store)


def load_deploy_flow(entrypoint: str, folder: Path) -> Any:
    """The flow of ``entrypoint``, a file path relative to ``folder`` or a module
    importable from it."""
    import sys

    from cadenza.utilities.entrypoints import load_flow

    target, sep, qualname = entrypoint.rpartition(":")
    if sep and (target.endswith(".py") or "/" in target) and not Path(target).is_absolute():
        return load_flow(f"{folder / target}:{qualname}")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return load_flow(entrypoint)
