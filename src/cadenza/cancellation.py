"""Cancelling a flow run: recording the request, and stopping the process that runs it.

One function serves the REST API (and through it the web UI's Cancel button) and
``cadenza runs cancel``. A run that has not started (Scheduled) is Cancelled at once.
Otherwise a ``Cancelling`` state is recorded, then the run's process, when it is on
this machine and still alive, gets SIGTERM: the engine stops the run and records
``Cancelled``. A run claimed by a worker is also stopped by its worker, which sees
the ``Cancelling`` state at its next heartbeat, wherever it runs: SIGTERM to the
run's process, SIGKILL after a grace period, and ``Cancelled`` recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Protocol

from cadenza.exceptions import ObjectNotFound, RunStateError
from cadenza.runs import FlowRun
from cadenza.states import TERMINAL_STATES, Cancelled, Cancelling, State, StateType

UNFINISHED = frozenset(t for t in StateType if t not in TERMINAL_STATES)
"""States of runs that can be cancelled."""
_RUNNING_TYPES = sorted(UNFINISHED - {StateType.CANCELLING})


class _Store(Protocol):
    def read_flow_run(self, flow_run_id: str) -> FlowRun | None: ...

    def add_flow_run_state_if(
        self, flow_run_id: str, state: State, *, current: Collection[StateType]
    ) -> bool: ...


@dataclasses.dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What asking to cancel a flow run did."""

    flow_run_id: str
    signal_sent: bool
    """Whether SIGTERM was sent to the run's process."""
    message: str


def cancel_flow_run(
    store: _Store, flow_run_id: str, *, through: str = "the API", own: str = "this process"
) -> CancelOutcome:
    """Cancel the flow run ``flow_run_id`` if it has not finished.

    ``through`` names where the request came from in the states recorded; ``own``
    names the calling process in messages (a run inside it is not signalled).

    Raises:
        ObjectNotFound: there is no such flow run.
        RunStateError: the run has finished already.
    """
    from cadenza.utilities.processes import terminate

    run = store.read_flow_run(flow_run_id)
    if run is None:
        raise ObjectNotFound(f"There is no flow run with id {flow_run_id!r}.")
    state = run.state
    if state is None or state.type in TERMINAL_STATES:
        raise _not_cancellable(run)
    if state.type is StateType.CANCELLING:
        return CancelOutcome(run.id, False, "The run is being cancelled already.")
    if state.type is StateType.SCHEDULED and store.add_flow_run_state_if(
        run.id,
        Cancelled(message=f"Cancelled through {through} before it started."),
        current=[StateType.SCHEDULED],
    ):
        return CancelOutcome(run.id, False, "The run had not started; it is cancelled.")
    asked = Cancelling(message=f"Cancellation requested through {through}.")
    if not store.add_flow_run_state_if(run.id, asked, current=_RUNNING_TYPES):
        found = store.read_flow_run(run.id)  # it finished, or is being cancelled, meanwhile
        if found is not None and found.state is not None:
            if found.state.type is StateType.CANCELLING:
                return CancelOutcome(run.id, False, "The run is being cancelled already.")
            run = found
        raise _not_cancellable(run)
    sent, why = terminate(run, own=own)
    if sent:
        message = f"Cancelling: SIGTERM sent to the run's process (pid {run.pid})."
    else:
        message = f"Marked Cancelling; no signal sent: {why}."
        if run.worker_id:
            message += " Its worker stops it at its next heartbeat."
    return CancelOutcome(run.id, sent, message)


def _not_cancellable(run: FlowRun) -> RunStateError:
    name = run.state.name if run.state is not None else "without a state"
    return RunStateError(
        f"Flow run {run.name!r} is {name}: only runs that have not finished can be cancelled."
    )
