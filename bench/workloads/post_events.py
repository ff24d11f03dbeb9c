"""The raw rate of ``POST /api/events``: N batches of 5,000 events, encoded beforehand.

    BENCH_SERVER_URL=http://127.0.0.1:PORT python post_events.py cadenza N

Each batch is what a client reports for one flow run of 1,666 trivial tasks: the flow
run created and finished, and each task run created (Pending), Running and Completed,
5,000 events in all, in their JSON form, as the HTTP reporter sends them. All batches
are encoded first; then they are sent one after another on one keep-alive connection,
each waiting for the server's answer (written to its store). The figure is the time
from the first request to the last answer.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

from common import Measurement

TASKS_PER_BATCH = 1_666
EVENTS_PER_BATCH = 2 + 3 * TASKS_PER_BATCH

measurement = Measurement()
if measurement.framework != "cadenza":
    raise SystemExit("post_events.py measures cadenza's server only")

import httpx  # noqa: E402

from cadenza.events import (  # noqa: E402
    Event,
    FlowRunCreated,
    FlowRunStateChanged,
    TaskRunCreated,
    TaskRunStateChanged,
)
from cadenza.events_json import encode_event  # noqa: E402
from cadenza.runs import FlowRun, TaskRun  # noqa: E402
from cadenza.states import State, StateType  # noqa: E402


def batch(number: int, now: float) -> bytes:
    """The events of one flow run of ``TASKS_PER_BATCH`` tasks, as a request body."""
    run = FlowRun(id=str(uuid.uuid4()), name=f"post-{number}", flow_name="post-events")
    run.created = now
    events: list[Event] = [FlowRunCreated(run, State(StateType.RUNNING, "Running", timestamp=now))]
    for k in range(TASKS_PER_BATCH):
        t = now + k * 1e-4
        task = TaskRun(
            id=str(uuid.uuid4()),
            name=f"add_one-{k}",
            task_key="post_events.py:add_one",
            flow_run_id=run.id,
            dynamic_key=k,
            created=t,
        )
        events.append(TaskRunCreated(task, State(StateType.PENDING, "Pending", timestamp=t)))
        events.append(TaskRunStateChanged(task.id, State(StateType.RUNNING, timestamp=t + 2e-5)))
        events.append(TaskRunStateChanged(task.id, State(StateType.COMPLETED, timestamp=t + 5e-5)))
    end = State(StateType.COMPLETED, "Completed", timestamp=now + 1)
    events.append(FlowRunStateChanged(run.id, end))
    assert len(events) == EVENTS_PER_BATCH
    body = {"events": [encode_event(event) for event in events]}
    return json.dumps(body, separators=(",", ":")).encode("ascii")


bodies = [batch(i, time.time()) for i in range(measurement.n)]
headers = {"Content-Type": "application/json"}
with httpx.Client(base_url=os.environ["BENCH_SERVER_URL"], timeout=120) as client:
    client.get("/api/health").raise_for_status()  # the connection is open before timing
    seconds = []
    started = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        response = client.post("/api/events", content=body, headers=headers)
        seconds.append(time.perf_counter() - sent)
        if response.status_code != 200 or response.json() != {"received": EVENTS_PER_BATCH}:
            sys.exit(f"the server answered {response.status_code}: {response.text[:300]}")
    elapsed = time.perf_counter() - started
measurement.figures.update(
    post_seconds=elapsed,
    events=EVENTS_PER_BATCH * measurement.n,
    task_runs_sent=TASKS_PER_BATCH * measurement.n,
    batch_bytes=len(bodies[0]),
    batch_seconds=seconds,
)
