"""A small store holding runs of every kind the API shows, with names to find them by.

Flow runs of three flows (``etl``, ``train``, ``bulk``) in every state, a subflow run,
task runs with persisted and cached results, log lines at several levels and
artifacts of each type, some sharing a key.
"""

from __future__ import annotations

import dataclasses
import logging

from cadenza.events import Event, LogEmitted
from cadenza.runs import FlowRun, LogEntry, TaskRun
from cadenza.states import (
    Cached,
    Completed,
    Crashed,
    Failed,
    Pending,
    Running,
    Scheduled,
)
from cadenza.store.base import RunStore
from tests.store import make
from tests.store.make import T0, Clock

BULK = 40
"""Runs of the flow ``bulk``: Completed and Failed in turn, tagged ``even`` or ``odd``."""
MANY_TASKS = 25


@dataclasses.dataclass
class Sample:
    runs: dict[str, FlowRun] = dataclasses.field(default_factory=dict)
    tasks: dict[str, TaskRun] = dataclasses.field(default_factory=dict)
    bulk: list[FlowRun] = dataclasses.field(default_factory=list)
    many_tasks: list[TaskRun] = dataclasses.field(default_factory=list)
    artifacts: dict[str, str] = dataclasses.field(default_factory=dict)
    """Artifact ids by a name of the test's."""

    def all_runs(self) -> list[FlowRun]:
        """Every flow run, oldest first."""
        return sorted([*self.runs.values(), *self.bulk], key=lambda r: r.id)


def _log(run: FlowRun | TaskRun, message: str, ts: float, level: int = logging.INFO) -> Event:
    return make.log(run, message, timestamp=ts, level=level)


def record_sample(store: RunStore) -> Sample:
    s = Sample()
    clock = Clock(T0 + 1)
    events: list[Event] = []

    etl = s.runs["etl-ok"] = make.flow_run("etl", created=T0, tags=["nightly"])
    events += make.completed(etl, clock)
    for name in ("extract", "transform", "load"):
        task = s.tasks[name] = make.task_run(
            etl,
            name=f"{name}-0",
            created=clock(),
            inputs={"rows": {"type": "int", "value": 10}},
        )
        events += make.completed(task, clock)
    events += [
        _log(etl, "etl starts", clock()),
        _log(s.tasks["extract"], "extract debug", clock(), logging.DEBUG),
        _log(s.tasks["transform"], "transform info", clock()),
        _log(s.tasks["transform"], "transform warns", clock(), logging.WARNING),
        _log(etl, "etl ends", clock()),
    ]
    report_v1 = make.artifact(etl, key="etl-report", data='"# v1"', description="first")
    s.artifacts["report-v1"] = report_v1.id
    events.append(report_v1)

    train = s.runs["train-failed"] = make.flow_run(
        "train",
        created=T0 + 10,
        tags=["gpu", "nightly"],
        entrypoint="flows/train.py:train",
        hostname="elsewhere",
        pid=4242,
        parameters={"lr": 0.1, "epochs": 3},
    )
    prepare = s.tasks["prepare"] = make.task_run(train, name="prepare-0", created=clock())
    persisted = {"result": "/results/abc", "serializer": "pickle", "cache_key": "abc"}
    events += make.lifecycle(
        prepare,
        Pending(timestamp=prepare.created),
        Running(timestamp=clock()),
        Completed(timestamp=clock(), data=persisted),
    )
    slot = s.tasks["evaluate-slot"] = make.task_run(
        train, name="evaluate-0", created=clock(), kind="subflow"
    )
    sub = s.runs["evaluate"] = make.flow_run(
        "evaluate", created=T0 + 11, parent=train, parent_task_run=slot
    )
    slot.subflow_run_id = sub.id
    events += make.completed(slot, clock)
    events += make.completed(sub, clock)
    sub_task = s.tasks["score"] = make.task_run(sub, name="score-0", created=clock())
    events += make.completed(sub_task, clock)
    fit = s.tasks["fit"] = make.task_run(
        train,
        name="fit-0",
        created=clock(),
        inputs={"data": {"upstream": [prepare.id]}, "lr": {"type": "float", "value": 0.1}},
    )
    events += make.failed(fit, clock, message="ValueError: the loss is NaN")
    events += make.lifecycle(
        train,
        Pending(timestamp=train.created),
        Running(timestamp=clock()),
        Failed(
            timestamp=clock(),
            message="ValueError: the loss is NaN",
            error_type="ValueError",
            traceback="Traceback (most recent call last):\nValueError: the loss is NaN\n",
        ),
    )
    events += [
        _log(train, "train starts", clock()),
        _log(sub, "evaluate speaks", clock()),
        _log(sub_task, "score speaks", clock()),
        _log(fit, "fit fails", clock(), logging.ERROR),
    ]
    table = make.artifact(fit, key="scores", type="table", data='{"columns":["m"],"rows":[[1]]}')
    link = make.artifact(sub, type="link", data='{"link":"https://example.org","link_text":null}')
    s.artifacts.update(scores=table.id, link=link.id)
    events += [table, link]

    cached_run = s.runs["train-cached"] = make.flow_run("train", created=T0 + 20)
    cached = s.tasks["cached"] = make.task_run(cached_run, name="prepare-0", created=clock())
    cache_data = {
        "cache_key": "abc",
        "result": "/results/abc",
        "serializer": "pickle",
        "cached_from": prepare.id,
        "cache_expires": T0 + 3600,
    }
    events += make.lifecycle(
        cached,
        Pending(timestamp=cached.created),
        Cached(timestamp=clock(), data=cache_data, message=f"Result of {prepare.id} reused"),
    )
    events += make.completed(cached_run, clock)

    running = s.runs["etl-running"] = make.flow_run(
        "etl", created=T0 + 30, hostname="elsewhere", pid=4243
    )
    events += make.lifecycle(running, Pending(timestamp=running.created), Running())
    crashed = s.runs["etl-crashed"] = make.flow_run("etl", created=T0 + 31)
    events += make.lifecycle(crashed, Pending(timestamp=crashed.created), Running(), Crashed())
    scheduled = s.runs["etl-scheduled"] = make.flow_run("etl", created=T0 + 32)
    events += make.lifecycle(scheduled, Scheduled(scheduled_time=T0 + 600, timestamp=T0 + 32))

    many = s.runs["many"] = make.flow_run("etl", created=T0 + 40)
    events += make.completed(many, clock)
    for i in range(MANY_TASKS):
        task = make.task_run(many, name=f"step-{i}", created=clock())
        s.many_tasks.append(task)
        events += make.completed(task, clock)
    events += [
        LogEmitted(LogEntry(many.id, None, logging.INFO, "tests", f"many {i}", clock()))
        for i in range(30)
    ]
    store.apply(events)

    events = []
    for i in range(BULK):
        run = make.flow_run("bulk", created=T0 + 100 + i, tags=["even" if i % 2 == 0 else "odd"])
        s.bulk.append(run)
        events += make.completed(run, clock) if i % 2 == 0 else make.failed(run, clock)
    report_v2 = make.artifact(None, key="etl-report", data='"# v2"', created=T0 + 200)
    s.artifacts["report-v2"] = report_v2.id
    events.append(report_v2)
    store.apply(events)
    return s
