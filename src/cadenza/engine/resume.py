"""Resuming a failed flow run: ``flow.retry(run_id)`` and ``cadenza runs retry``.

The run is executed again as a new attempt of the same flow run, with the same
parameters. Its tasks find the results they persisted in the failed attempt
(their cache keys include the flow run's id, which has not changed): those come
back ``Cached``, pointing at the task runs that produced them, and execution
continues from the first task that has no stored result. Subflows called in the
same order resume the same way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from cadenza.engine.parameters import is_lossy
from cadenza.exceptions import CadenzaError, ObjectNotFound
from cadenza.states import StateType

if TYPE_CHECKING:
    from cadenza.flows import Flow
    from cadenza.runs import FlowRun
    from cadenza.store.base import RunStore

logger = logging.getLogger("cadenza.flow_runs")

RESUMABLE = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})


class NotResumable(CadenzaError):
    """The flow run cannot be resumed (it did not fail, or its inputs are gone)."""


def parameters_key(flow_run_id: str) -> str:
    return f"parameters/{flow_run_id}"


def save_parameters(flow: Flow[Any, Any], flow_run_id: str, values: dict[str, Any]) -> None:
    """Keep the exact parameter values of a run whose JSON form lost information
    (a DataFrame parameter...), so that the run can be resumed with them."""
    import cloudpickle

    from cadenza.engine.caching import get_storage

    try:
        get_storage(flow.result_storage).write(
            parameters_key(flow_run_id), cloudpickle.dumps(values)
        )
    except Exception as exc:  # resuming becomes impossible, running is not affected
        logger.warning("The parameters of flow run %s could not be stored: %s", flow_run_id, exc)


def _load_parameters(flow: Flow[Any, Any], run: FlowRun) -> dict[str, Any]:
    import pickle

    from cadenza.engine.caching import get_storage

    data = None
    try:
        data = get_storage(flow.result_storage).read(parameters_key(run.id))
    except OSError:
        pass
    if data is not None:
        values: dict[str, Any] = pickle.loads(data)
        return values
    if is_lossy(run.parameters):
        lost = [k for k, v in run.parameters.items() if is_lossy(v)]
        raise NotResumable(
            f"Flow run {run.name!r} ({run.id}) cannot be resumed: the values of its "
            f"parameter(s) {', '.join(lost)} were not stored (only a summary of them). "
            "Runs of flows with persist_result=True keep them."
        )
    return dict(run.parameters)


def prepare_resume(
    flow: Flow[Any, Any], flow_run_id: str, store: RunStore | None = None
) -> tuple[FlowRun, dict[str, Any]]:
    """The run to resume and the parameters to call the flow with.

    Raises:
        ObjectNotFound: there is no flow run with this id.
        NotResumable: the run belongs to another flow, did not fail, or its
            parameters are gone.
    """
    if store is None:
        from cadenza.settings import get_settings
        from cadenza.store import get_store

        settings = get_settings()
        if settings.api_url:
            raise NotResumable(
                f"Resuming runs recorded on a server ({settings.api_url}) from a client is not "
                "supported yet: use the Retry button of the run page, POST "
                "/api/flow_runs/{id}/retry, or run `cadenza runs retry` on the server's "
                "machine with CADENZA_API_URL unset."
            )
        store = get_store()
    run = store.read_flow_run(flow_run_id)
    if run is None:
        raise ObjectNotFound(
            f"There is no flow run {flow_run_id!r}; `cadenza runs ls` lists the runs."
        )
    if run.flow_name != flow.name:
        raise NotResumable(
            f"Flow run {run.name!r} ({run.id}) is a run of flow {run.flow_name!r}, "
            f"not of {flow.name!r}."
        )
    state = run.state
    if state is None or state.type not in RESUMABLE:
        name = state.name if state is not None else "unknown"
        raise NotResumable(
            f"Flow run {run.name!r} ({run.id}) is {name}; only failed, crashed or "
            "cancelled runs can be resumed. Call the flow to start a new run."
        )
    return run, _load_parameters(flow, run)


def previous_subflows(store: RunStore, flow_run_id: str) -> dict[tuple[str, int], str]:
    """The subflow runs of a flow run's earlier attempts, by (flow name, call index)."""
    found: dict[tuple[str, int], str] = {}
    for task_run in store.list_task_runs(flow_run_id):
        if task_run.kind == "subflow" and task_run.subflow_run_id:
            name = task_run.task_key.split(":", 1)[-1]
            found[(name, task_run.dynamic_key)] = task_run.subflow_run_id
    return found
