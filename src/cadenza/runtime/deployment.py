"""The deployment of the current flow run: ``cadenza.runtime.deployment.<attribute>``.

Attributes: ``id`` (None outside a run of a deployment), ``name`` and
``parameters`` (the deployment's defaults), read from the store on first use in a
run and then kept.
"""

from __future__ import annotations

from typing import Any

ATTRIBUTES = ("id", "name", "parameters")
"""The attributes this module answers."""

_cache: dict[str, Any] = {}


def _deployment() -> Any:
    from cadenza.context import FlowRunContext

    ctx = FlowRunContext.get()
    deployment_id = None if ctx is None else ctx.flow_run.deployment_id
    if deployment_id is None:
        return None
    found = _cache.get(deployment_id)
    if found is None:
        from cadenza.client import get_deployment_store

        found = get_deployment_store().read_deployment(deployment_id)
        if found is not None:
            _cache.clear()
            _cache[deployment_id] = found
    return found


def __getattr__(name: str) -> Any:
    if name not in ATTRIBUTES:
        raise AttributeError(
            f"cadenza.runtime.deployment has no attribute {name!r}; it has {', '.join(ATTRIBUTES)}."
        )
    deployment = _deployment()
    if name == "id":
        from cadenza.context import FlowRunContext

        ctx = FlowRunContext.get()
        return None if ctx is None else ctx.flow_run.deployment_id
    if deployment is None:
        return {} if name == "parameters" else None
    return dict(deployment.parameters) if name == "parameters" else deployment.name
