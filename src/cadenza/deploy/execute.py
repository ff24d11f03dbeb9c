"""Executing one flow run created ahead of time: ``python -m cadenza.deploy.execute RUN_ID``.

A worker starts this in a subprocess for each run it claims (``flow.serve`` too). It
reads the run and its deployment from the store of the settings (a server with
``CADENZA_API_URL``, else the database), imports the flow from the deployment's
entrypoint, and runs it *as that flow run*: with the run's parameters, moving it from
Scheduled or Pending to Running and on to its final state, with this process's host
name and process id recorded on it. A run that cannot start (its code does not
load, its parameters do not fit the flow) ends Failed with the reason.

The exit code is 0 when the run completed, 1 otherwise.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import CadenzaError, DeploymentError, ObjectNotFound
from cadenza.states import Failed, State, StateType

if TYPE_CHECKING:
    from cadenza.flows import Flow
    from cadenza.runs import FlowRun
    from cadenza.store.deploy_base import DeploymentStore

logger = logging.getLogger("cadenza.deploy")

STARTABLE = frozenset({StateType.SCHEDULED, StateType.PENDING})
"""States a run created ahead of time can be started from."""


def execute_flow_run(flow_run_id: str, store: DeploymentStore | None = None) -> State:
    """Run the flow run ``flow_run_id`` (created ahead of time) in this process.

    Returns the run's final state. When the flow cannot be loaded or its parameters
    are invalid, the run ends Failed with the reason and that state is returned.

    Raises:
        ObjectNotFound: there is no such flow run.
        DeploymentError: the run has started already, or ended.
    """
    if store is None:
        from cadenza.client import get_deployment_store

        store = get_deployment_store()
    run = store.read_flow_run(flow_run_id)
    if run is None:
        raise ObjectNotFound(f"There is no flow run {flow_run_id!r} to execute.")
    if run.state is None or run.state.type not in STARTABLE:
        name = run.state.name if run.state is not None else "without a state"
        raise DeploymentError(
            f"Flow run {run.name!r} ({run.id}) is {name}: only Scheduled or Pending runs "
            "are started (it was started by another process, or cancelled)."
        )
    try:
        flow = load_run_flow(store, run)
    except CadenzaError as exc:
        return _fail_before_start(store, run, exc)
    return run_precreated(flow, run, store)


def load_run_flow(store: DeploymentStore, run: FlowRun) -> Flow[Any, Any]:
    """The flow of a run of a deployment, imported from the deployment's entrypoint
    (relative file paths start in the deployment's folder, which becomes the current
    folder, and where modules are imported from first).

    Raises:
        DeploymentError: the run names no entrypoint and no deployment.
        EntrypointError: the flow cannot be imported.
    """
    from cadenza.utilities.entrypoints import load_flow

    deployment = store.read_deployment(run.deployment_id) if run.deployment_id else None
    entrypoint = deployment.entrypoint if deployment is not None else run.entrypoint
    if not entrypoint:
        raise DeploymentError(
            f"Flow run {run.name!r} ({run.id}) has no deployment and no entrypoint: "
            "cadenza does not know which code to run."
        )
    if deployment is not None and deployment.path:
        folder = Path(deployment.path).expanduser()
        if not folder.is_dir():
            raise DeploymentError(
                f"The folder {folder} of deployment {deployment.full_name!r} does not exist "
                "on this machine: deploy again from where the code is, or run the worker "
                "where the folder is."
            )
        os.chdir(folder)
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    flow: Flow[Any, Any] = load_flow(entrypoint)
    if flow.name != run.flow_name:
        logger.warning(
            "Flow run %s is a run of flow %r, but %s holds flow %r; running it anyway.",
            run.id,
            run.flow_name,
            entrypoint,
            flow.name,
        )
    return flow


def run_precreated(flow: Flow[Any, Any], run: FlowRun, store: DeploymentStore) -> State:
    """Run ``flow`` as the existing flow run ``run``; returns its final state.

    Invalid parameters end the run Failed before it starts.
    """
    from cadenza.engine.flow_engine import run_flow_async, run_flow_sync

    parameters = dict(run.parameters)
    try:
        if flow.is_async:
            import asyncio

            state: State = asyncio.run(run_flow_async(flow, (), parameters, True, run=run))
        else:
            state = run_flow_sync(flow, (), parameters, True, run=run)
    except CadenzaError as exc:  # raised before the run started (parameters)
        return _fail_before_start(store, run, exc)
    return state


def _fail_before_start(store: DeploymentStore, run: FlowRun, exc: BaseException) -> State:
    failed = Failed(message=f"The run could not start: {exc}", exception=exc)
    if not store.add_flow_run_state_if(run.id, failed, current=STARTABLE):
        logger.error("Flow run %s could not start (%s) and is no longer Pending.", run.id, exc)
    logger.error("Flow run %r could not start: %s", run.name, exc)
    return failed


def exit_with_parent(parent_pid: int) -> None:
    """Have this process killed when its parent (the worker that started it) dies, so
    that a run never outlives the worker that heartbeats for it (Linux; elsewhere the
    monitor crashes the run after the heartbeat timeout). Exits at once when the
    parent is gone already."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        except (OSError, AttributeError):
            logger.debug("prctl(PR_SET_PDEATHSIG) is not available", exc_info=True)
    if os.getppid() != parent_pid:
        gone = f"Error: the worker (pid {parent_pid}) that started this run is gone."
        print(gone, file=sys.stderr)
        sys.exit(1)


_NO_RUN = "00000000-0000-7000-8000-000000000000"


def warm_up() -> None:
    """Load what running a flow run needs (the store, the engine, the reporter, their
    connections to the database or the server), so that a process started ahead of its
    run starts the run at once.

    Raises:
        CadenzaError: the store or the server cannot be reached (the run, once known,
            reports it).
    """
    from cadenza.client import get_deployment_store
    from cadenza.engine import flow_engine
    from cadenza.reporting import get_reporter

    store = get_deployment_store()
    get_reporter().check()
    store.read_flow_run(_NO_RUN)  # opens the connection the run's reads then use
    del flow_engine


def main(argv: list[str] | None = None) -> int:
    """The command ``python -m cadenza.deploy.execute RUN_ID [--parent-pid PID]``;
    returns the exit code. With ``--parent-pid``, the process ends when that parent
    does (see :func:`exit_with_parent`), and says on its output when it has loaded what
    a run needs (see :mod:`cadenza.deploy.spare`). A RUN_ID of ``-`` starts a process
    ahead of its run: it loads what a run needs, then reads the run's id from its
    standard input (a worker keeps one such process ready, so that a run starts
    without the cost of starting Python and importing cadenza); it exits when the
    input closes without an id."""
    args = list(sys.argv[1:] if argv is None else argv)
    parent: int | None = None
    if len(args) == 3 and args[1] == "--parent-pid" and args[2].isdigit():
        parent = int(args[2])
        del args[1:]
    if len(args) != 1:
        print(
            "usage: python -m cadenza.deploy.execute FLOW_RUN_ID [--parent-pid PID]",
            file=sys.stderr,
        )
        return 2
    if parent is not None:
        exit_with_parent(parent)
    from cadenza.logging.loggers import setup_logging

    setup_logging()
    run_id = args[0]
    if parent is not None:
        # Tell the worker this process has loaded what a run needs (it paces the
        # processes it starts by this), then, started ahead, wait for the run's id.
        from cadenza.deploy.spare import READY

        try:
            warm_up()
        except CadenzaError:
            pass  # reported when the run is read, with the run's id
        sys.stdout.buffer.write(READY + b"\n")
        sys.stdout.flush()
    if run_id == "-":
        run_id = sys.stdin.readline().strip()
        if not run_id:
            return 0
    try:
        state = execute_flow_run(run_id)
    except CadenzaError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
