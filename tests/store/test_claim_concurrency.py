"""Processes claiming the scheduled runs of one pool at once, while another marks runs
late and the scheduler creates runs again, on every backend (PostgreSQL with ``FOR
UPDATE SKIP LOCKED``): every run is claimed once, by one worker, and stays claimed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cadenza.deploy.deployments import Deployment
from cadenza.deploy.pools import WorkPool
from cadenza.deploy.runs import new_deployment_run, scheduled_key
from cadenza.states import StateType
from cadenza.store.sql import SqlStore
from tests.store.backends import BACKENDS, Backend
from tests.store.make import T0

N_RUNS = 150
NOW = T0 + 10_000

_CLAIMER = """
import json, sys, time
from pathlib import Path
from cadenza.store.sql import SqlStore

url, go, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
now, n_runs = float(sys.argv[4]), int(sys.argv[5])
store = SqlStore(url)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
claimed = []
empty = 0
# The marker may hold some runs for a moment: look again. More claims than runs would
# mean that runs are claimed again: the test fails on them without looping on.
while empty < 3 and len(claimed) <= n_runs:
    runs = store.claim_flow_runs("pool", name, 2, now=now)
    claimed += [r.id for r in runs]
    empty = 0 if runs else empty + 1
print(json.dumps(claimed))
"""

_MARKER = """
import json, sys, time
from pathlib import Path
from cadenza.deploy.runs import new_deployment_run, scheduled_key
from cadenza.store.sql import SqlStore

url, go, stop, now, deployment_id = (
    sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
)
times = [float(t) for t in sys.argv[6].split(",")]
store = SqlStore(url)
deployment = store.read_deployment(deployment_id)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
marked = 0
for _ in range(2000):
    if stop.exists():
        break
    marked += len(store.mark_late_flow_runs(before=now, now=now, limit=5))
    # The scheduler creating the same runs again: each key is taken already.
    again = [new_deployment_run(deployment, t, idempotency_key=scheduled_key(t)) for t in times]
    assert store.create_scheduled_flow_runs(again) == []
print(json.dumps(marked))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS, ids=str)
def test_processes_claiming_at_once_never_share_a_run(
    backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = backend.fresh_url(request)
    store = SqlStore(url)
    store.create_work_pool(WorkPool("pool"), now=T0)
    deployment = store.save_deployment(
        Deployment(
            flow_name="train", name="nightly", entrypoint="f.py:train", work_pool_name="pool"
        ),
        now=T0,
    )
    times = [T0 + i for i in range(N_RUNS)]
    runs = [new_deployment_run(deployment, t, idempotency_key=scheduled_key(t)) for t in times]
    made = {r.id for r in store.create_scheduled_flow_runs(runs)}
    assert len(made) == N_RUNS
    go, stop = tmp_path / "go", tmp_path / "stop"
    common = [url, str(go)]
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMER, *common, f"worker-{i}", str(NOW), str(N_RUNS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    marker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _MARKER,
            *common,
            str(stop),
            str(NOW),
            str(deployment.id),
            ",".join(repr(t) for t in times[:5]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    processes = [*claimers, marker]
    try:
        for p in processes:
            assert p.stdout is not None
            assert p.stdout.readline() == "ready\n", p.stderr.read() if p.stderr else ""
        go.touch()
        claimed: dict[str, list[str]] = {}
        for i, p in enumerate(claimers):
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            claimed[f"worker-{i}"] = json.loads(out)
        stop.touch()
        out, err = marker.communicate(timeout=60)
        assert marker.returncode == 0, err
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()

    every = [run_id for ids in claimed.values() for run_id in ids]
    assert sorted(every) == sorted(made)  # each run claimed, and only once
    for name, ids in claimed.items():
        for run_id in ids:
            run = store.read_flow_run(run_id)
            assert run is not None
            assert run.worker_id == name
            # Claimed once, and never made Scheduled (Late) again after the claim.
            assert run.state is not None
            assert run.state.type is StateType.PENDING, [s.name for s in run.history or ()]
            names = [s.name for s in run.history or ()]
            assert names.count("Pending") == 1, names
            assert names[-1] == "Pending", names
    assert store.count_flow_runs() == N_RUNS
    store.close()
