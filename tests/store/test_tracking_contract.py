"""The written contract of :class:`~cadenza.store.tracking_base.TrackingStore`.

Every test runs on each SQL backend of :data:`tests.store.backends.BACKENDS` and on
:class:`~cadenza.client.http_tracking.HttpTrackingStore` against a real server (uvicorn
on 127.0.0.1) serving a fresh SQL store. Runs are recorded through the SQL store's
``apply``, as the engine's writer records them; the tests read and write tracking data
only through the interface.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from cadenza.client.http_tracking import HttpTrackingStore
from cadenza.events import (
    DatasetLogged,
    Event,
    ExperimentSet,
    MetricLogged,
    ParamsLogged,
    TagsSet,
)
from cadenza.exceptions import ObjectNotFound
from cadenza.runs import FlowRun, TaskRun
from cadenza.states import Completed, Failed, Pending, Running
from cadenza.store.sql import SqlStore
from cadenza.store.tracking_base import DEFAULT_EXPERIMENT, MAX_RESULTS, TrackingStore
from cadenza.tracking.entities import Dataset, Metric, Param, RunTag
from cadenza.tracking.errors import (
    ExperimentAlreadyExists,
    InvalidFilter,
    InvalidTrackingValue,
    ParamConflict,
)
from tests.server.api.conftest import LiveServer
from tests.store import make
from tests.store.backends import BACKENDS, Backend
from tests.store.make import T0, Clock

UNKNOWN = "01890000-0000-7000-8000-00000000dead"


@dataclasses.dataclass
class Tracking:
    """The store under test, and the SQL store behind it that records runs."""

    store: TrackingStore
    sql: SqlStore

    def apply(self, *batches: Sequence[Event]) -> None:
        for batch in batches:
            self.sql.apply(list(batch))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module; each test gives it a fresh store."""
    placeholder = SqlStore(f"sqlite:///{tmp_path_factory.mktemp('srv') / 'placeholder.db'}")
    live = LiveServer(placeholder).start()
    yield live
    live.stop()
    placeholder.close()


KINDS = [*(f"sql-{b.name}" for b in BACKENDS), "http"]


@pytest.fixture(params=KINDS)
def tracking(request: pytest.FixtureRequest) -> Iterator[Tracking]:
    kind: str = request.param
    backend: Backend = BACKENDS[0] if kind == "http" else BACKENDS[KINDS.index(kind)]
    sql = SqlStore(backend.fresh_url(request))
    if kind != "http":
        yield Tracking(sql, sql)
        sql.close()
        return
    live: LiveServer = request.getfixturevalue("server")
    live.app.state.store = sql
    http = HttpTrackingStore(live.url)
    yield Tracking(http, sql)
    http.close()
    sql.close()


def flow_and_tasks(
    tracking: Tracking, flow_name: str = "train", n_tasks: int = 0, *, failed: bool = False
) -> tuple[FlowRun, list[TaskRun]]:
    clock = Clock()
    run = make.flow_run(flow_name)
    tasks = [make.task_run(run, name=f"trial-{i}") for i in range(n_tasks)]
    events: list[Event] = make.failed(run, clock) if failed else make.completed(run, clock)
    for t in tasks:
        events += make.completed(t, clock)
    tracking.apply(events)
    return run, tasks


def experiment_id(tracking: Tracking, name: str) -> str:
    found = tracking.store.get_experiment_by_name(name)
    assert found is not None, name
    return found.experiment_id


# -- misses --------------------------------------------------------------------------------
def test_an_empty_store_answers_none_or_empty(tracking: Tracking) -> None:
    s = tracking.store
    assert s.list_experiments() == []
    assert s.get_experiment(UNKNOWN) is None
    assert s.get_experiment_by_name("nope") is None
    keys = s.experiment_keys(UNKNOWN)
    assert (keys.params, keys.metrics, keys.tags) == ([], [], [])
    assert s.get_run(UNKNOWN) is None
    assert not s.get_run_data(UNKNOWN)
    assert s.get_run_data(UNKNOWN).params == {}
    assert s.get_metric_history(UNKNOWN, "rmse") == []
    assert s.list_datasets(UNKNOWN) == []
    page = s.search_runs([UNKNOWN])
    assert (list(page), page.token) == ([], None)
    assert list(s.search_runs([])) == []


# -- experiments -----------------------------------------------------------------------------
def test_experiments_are_created_listed_and_found(tracking: Tracking) -> None:
    s = tracking.store
    created = s.create_experiment("taxi", "NYC taxi fares")
    assert (created.name, created.description, created.run_count) == ("taxi", "NYC taxi fares", 0)
    assert created.creation_time > T0
    with pytest.raises(ExperimentAlreadyExists, match="'taxi' exists already"):
        s.create_experiment("taxi")
    with pytest.raises(InvalidTrackingValue, match="non-empty str"):
        s.create_experiment("")
    with pytest.raises(InvalidTrackingValue, match="at most 255"):
        s.create_experiment("x" * 256)
    run, _ = flow_and_tasks(tracking, "etl")
    flow_and_tasks(tracking, "etl")
    listed = s.list_experiments()
    assert [(e.name, e.run_count) for e in listed] == [("etl", 2), ("taxi", 0)]
    etl = listed[0]
    assert etl.last_run_time == T0
    assert s.get_experiment(etl.experiment_id) == etl
    assert s.get_experiment_by_name("etl") == etl
    assert s.get_experiment(created.experiment_id) == created
    # The experiment of a flow's runs exists: creating it is an error.
    with pytest.raises(ExperimentAlreadyExists):
        s.create_experiment("etl")
    assert s.get_run(run.id).info.experiment_id == etl.experiment_id  # type: ignore[union-attr]


def test_experiment_keys_are_the_keys_its_runs_logged(tracking: Tracking) -> None:
    run, (t1, t2) = flow_and_tasks(tracking, "train", 2)
    other, _ = flow_and_tasks(tracking, "other")
    tracking.apply(
        [
            ParamsLogged(t1.id, {"max_depth": "5", "lr": "0.1"}),
            ParamsLogged(t2.id, {"max_depth": "10", "booster": "gbtree"}),
            MetricLogged(t1.id, "rmse", 5.0, T0, 0),
            MetricLogged(run.id, "n_trials", 2.0, T0, 0),
            TagsSet(t2.id, {"stage": "tuning"}, T0),
            ParamsLogged(other.id, {"elsewhere": "1"}),
        ]
    )
    keys = tracking.store.experiment_keys(experiment_id(tracking, "train"))
    assert keys.params == ["booster", "lr", "max_depth"]
    assert keys.metrics == ["n_trials", "rmse"]
    assert keys.tags == ["stage"]


# -- what runs logged --------------------------------------------------------------------------
def test_run_data_holds_params_latest_metrics_and_tags(tracking: Tracking) -> None:
    run, (task,) = flow_and_tasks(tracking, "train", 1)
    tracking.apply(
        [
            ParamsLogged(task.id, {"max_depth": "10"}),
            MetricLogged(task.id, "loss", 0.9, T0 + 1, 0),
            MetricLogged(task.id, "loss", 0.5, T0 + 2, 2),
            MetricLogged(task.id, "loss", 0.7, T0 + 3, 1),  # an earlier step, logged later
            MetricLogged(task.id, "nan", math.nan, T0, 0),
            MetricLogged(task.id, "inf", -math.inf, T0, 0),
            TagsSet(task.id, {"stage": "tuning", "owner": "ana"}, T0 + 1),
            TagsSet(task.id, {"stage": "done"}, T0 + 2),
            TagsSet(task.id, {"stage": "stale"}, T0 + 1.5),  # set earlier, arrived later
        ]
    )
    data = tracking.store.get_run_data(task.id)
    assert data.params == {"max_depth": "10"}
    metrics = dict(data.metrics)
    assert math.isnan(metrics.pop("nan"))
    assert metrics == {"loss": 0.5, "inf": -math.inf}
    assert data.tags == {"owner": "ana", "stage": "done"}
    assert not tracking.store.get_run_data(run.id)
    history = tracking.store.get_metric_history(task.id, "loss")
    assert history == [
        Metric("loss", 0.9, T0 + 1, 0),
        Metric("loss", 0.7, T0 + 3, 1),
        Metric("loss", 0.5, T0 + 2, 2),
    ]
    assert tracking.store.get_metric_history(task.id, "unknown") == []


def test_the_latest_point_is_the_highest_step_then_the_latest_time(tracking: Tracking) -> None:
    run, _ = flow_and_tasks(tracking)
    tracking.apply([MetricLogged(run.id, "m", 1.0, T0 + 5, 3)])
    tracking.apply([MetricLogged(run.id, "m", 2.0, T0 + 9, 2)])  # lower step: not latest
    assert tracking.store.get_run_data(run.id).metrics == {"m": 1.0}
    tracking.apply([MetricLogged(run.id, "m", 3.0, T0 + 6, 3)])  # same step, later
    assert tracking.store.get_run_data(run.id).metrics == {"m": 3.0}
    tracking.apply([MetricLogged(run.id, "m", math.nan, T0 + 7, 3)])
    assert math.isnan(tracking.store.get_run_data(run.id).metrics["m"])
    tracking.apply([MetricLogged(run.id, "m", 4.0, T0 + 1, 4)])
    assert tracking.store.get_run_data(run.id).metrics == {"m": 4.0}


def test_a_batch_applied_twice_is_recorded_once(tracking: Tracking) -> None:
    clock = Clock()
    run = make.flow_run("train")
    task = make.task_run(run)
    batch = [
        *make.completed(run, clock),
        *make.completed(task, clock),
        ParamsLogged(task.id, {"a": "1"}),
        *(MetricLogged(task.id, "loss", 1.0 / (i + 1), T0 + i, i) for i in range(50)),
        MetricLogged(task.id, "loss", math.nan, T0 + 99, 99),
        TagsSet(task.id, {"t": "v"}, T0),
        DatasetLogged(task.id, "taxi", "d1", "s3://b/t.parquet", "training", {"x": "int"}, 3),
        ExperimentSet(run.id, "moved"),
    ]
    tracking.apply(batch, batch, batch[5:])
    assert len(tracking.store.get_metric_history(task.id, "loss")) == 51
    assert tracking.store.get_run_data(task.id).params == {"a": "1"}
    assert len(tracking.store.list_datasets(task.id)) == 1
    moved = experiment_id(tracking, "moved")
    assert [r.info.run_id for r in tracking.store.search_runs([moved])] == [task.id, run.id]
    assert experiment_id(tracking, "train")  # created on demand, now empty
    assert tracking.store.get_experiment_by_name("train").run_count == 0  # type: ignore[union-attr]


def test_a_param_logged_again_keeps_its_first_value(tracking: Tracking) -> None:
    run, _ = flow_and_tasks(tracking)
    tracking.apply([ParamsLogged(run.id, {"lr": "0.1"})])
    tracking.apply([ParamsLogged(run.id, {"lr": "0.2", "depth": "3"})])
    assert tracking.store.get_run_data(run.id).params == {"depth": "3", "lr": "0.1"}


def test_events_of_unknown_runs_are_dropped_not_the_batch(tracking: Tracking) -> None:
    run, _ = flow_and_tasks(tracking)
    tracking.apply(
        [MetricLogged(UNKNOWN, "rmse", 1.0, T0, 0), MetricLogged(run.id, "rmse", 2.0, T0, 0)]
    )
    assert tracking.store.get_run_data(run.id).metrics == {"rmse": 2.0}
    assert tracking.store.get_run(UNKNOWN) is None


def test_runs_and_their_experiments(tracking: Tracking) -> None:
    run, (logged, plain) = flow_and_tasks(tracking, "train", 2)
    tracking.apply([MetricLogged(logged.id, "rmse", 4.0, T0, 0)])
    standalone = make.task_run(None, name="alone")
    tracking.apply([*make.completed(standalone, Clock()), ParamsLogged(standalone.id, {"k": "v"})])
    train = experiment_id(tracking, "train")
    found = tracking.store.get_run(logged.id)
    assert found is not None
    assert (found.info.kind, found.info.run_name, found.info.status) == (
        "task",
        "trial-0",
        "COMPLETED",
    )
    assert (found.info.experiment_id, found.info.flow_run_id) == (train, run.id)
    assert found.info.start_time is not None and found.info.end_time is not None
    assert found.data.metrics == {"rmse": 4.0}
    flow = tracking.store.get_run(run.id)
    assert flow is not None
    assert (flow.info.kind, flow.info.flow_run_id, flow.info.experiment_id) == (
        "flow",
        run.id,
        train,
    )
    untracked = tracking.store.get_run(plain.id)
    assert untracked is not None
    assert (untracked.info.experiment_id, untracked.info.kind) == (None, "task")
    alone = tracking.store.get_run(standalone.id)
    assert alone is not None
    assert alone.info.experiment_id == experiment_id(tracking, DEFAULT_EXPERIMENT)
    assert alone.info.flow_run_id is None


# -- search ------------------------------------------------------------------------------------
@pytest.fixture
def trials(tracking: Tracking) -> dict[str, str]:
    """A flow run of ``tune`` (failed) and five task runs of trials, with params,
    metrics, tags and datasets; run ids by name."""
    clock = Clock()
    run = make.flow_run("tune", name="tune-run")
    events: list[Event] = list(make.failed(run, clock))
    spec = [
        # name, max_depth, model, rmse, mae, team, state
        ("trial-a", "5", "xgb-hist", 6.5, 4.0, "data", "ok"),
        ("trial-b", "10", "xgb-approx", 5.2, 3.9, "data", "ok"),
        ("trial-c", "10", "Ridge", 5.9, None, "ml", "failed"),
        ("trial-d", "20", "xgb-hist", None, 3.0, None, "ok"),
        ("trial-e", "20", "lasso", 4.8, 3.5, "ml", "ok"),
    ]
    ids = {"tune-run": run.id}
    for i, (name, depth, model, rmse, mae, team, state) in enumerate(spec):
        t = make.task_run(run, name=name, created=T0 + i)
        ids[name] = t.id
        events += [
            make.create(t),
            make.change(t, Pending(timestamp=T0 + i)),
            make.change(t, Running(timestamp=T0 + 10 + i)),
            make.change(
                t,
                Failed(timestamp=T0 + 20 + i)
                if state == "failed"
                else Completed(timestamp=T0 + 20 + i),
            ),
            ParamsLogged(t.id, {"max_depth": depth, "model": model}),
        ]
        if rmse is not None:
            events.append(MetricLogged(t.id, "rmse", rmse, T0, 0))
        if mae is not None:
            events.append(MetricLogged(t.id, "val mae", mae, T0, 0))
        if team is not None:
            events.append(TagsSet(t.id, {"team": team}, T0))
    events += [
        DatasetLogged(ids["trial-a"], "taxi-2024-01", "d1", context="training"),
        DatasetLogged(ids["trial-b"], "taxi-2024-02", "d2", context="training"),
        MetricLogged(run.id, "n_trials", 5.0, T0, 0),
    ]
    tracking.apply(events)
    return ids


def search(
    tracking: Tracking, flt: str = "", order: list[str] | None = None, **kw: Any
) -> list[str]:
    tune = experiment_id(tracking, "tune")
    found = tracking.store.search_runs([tune], flt, order, **kw)
    return [r.info.run_name for r in found]


FILTERS: dict[str, tuple[str, list[str]]] = {
    "metric <": ("metrics.rmse < 6", ["trial-e", "trial-c", "trial-b"]),
    "metric <=": ("metrics.rmse <= 5.2", ["trial-e", "trial-b"]),
    "metric >": ("metrics.rmse > 5.9", ["trial-a"]),
    "metric >=": ("metrics.rmse >= 5.9", ["trial-c", "trial-a"]),
    "metric =": ("metrics.rmse = 5.2", ["trial-b"]),
    "metric !=": ("metrics.rmse != 5.2", ["trial-e", "trial-c", "trial-a"]),
    "quoted metric key": ("metrics.`val mae` < 3.6", ["trial-e", "trial-d"]),
    "param =": ('params.max_depth = "10"', ["trial-c", "trial-b"]),
    "param !=": ("params.max_depth != '10'", ["trial-e", "trial-d", "trial-a"]),
    "param LIKE": ('params.model LIKE "xgb%"', ["trial-d", "trial-b", "trial-a"]),
    "LIKE keeps case": ('params.model LIKE "ridge"', []),
    "LIKE with _": ('params.model LIKE "xgb-h_st"', ["trial-d", "trial-a"]),
    "param ILIKE": ('params.model ILIKE "RIDGE"', ["trial-c"]),
    "param IN": ("params.max_depth IN ('5', '20')", ["trial-e", "trial-d", "trial-a"]),
    "param NOT IN": ("params.max_depth NOT IN ('5', '20')", ["trial-c", "trial-b"]),
    "tag =": ('tags.team = "ml"', ["trial-e", "trial-c"]),
    "tag !=": ('tags.team != "ml"', ["trial-b", "trial-a"]),
    "status": ('attributes.status = "FAILED"', ["trial-c", "tune-run"]),
    "status, MLflow's name": (
        "attributes.status = 'finished'",
        ["trial-e", "trial-d", "trial-b", "trial-a"],
    ),
    "run name LIKE": (
        'attributes.run_name LIKE "trial-%"',
        ["trial-e", "trial-d", "trial-c", "trial-b", "trial-a"],
    ),
    "kind": ('attributes.kind = "flow"', ["tune-run"]),
    "start time": ("attributes.start_time >= 1750000012", ["trial-e", "trial-d", "trial-c"]),
    "created": ("attributes.created < 1750000001", ["trial-a", "tune-run"]),
    "dataset name": ('datasets.name LIKE "taxi-%"', ["trial-b", "trial-a"]),
    "dataset context": (
        'datasets.context = "training" and datasets.name = "taxi-2024-02"',
        ["trial-b"],
    ),
    "AND of every kind": (
        'metrics.rmse < 6 and params.max_depth = "10" and tags.team != "x" '
        'and attributes.status = "FAILED"',
        ["trial-c"],
    ),
    "and in any case": (
        "metrics.rmse < 6 AND metrics.`val mae` > 3.6 And params.model = 'xgb-approx'",
        ["trial-b"],
    ),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_search_with_every_filter_form(
    tracking: Tracking, trials: dict[str, str], case: str
) -> None:
    text, expected = FILTERS[case]
    assert search(tracking, text) == expected


def test_search_without_filter_gives_every_run_newest_first(
    tracking: Tracking, trials: dict[str, str]
) -> None:
    assert search(tracking) == ["trial-e", "trial-d", "trial-c", "trial-b", "trial-a", "tune-run"]


ORDERS: dict[str, tuple[list[str], list[str]]] = {
    "metric ascending, missing last": (
        ["metrics.rmse ASC"],
        ["trial-e", "trial-b", "trial-c", "trial-a", "trial-d", "tune-run"],
    ),
    "metric descending, missing last": (
        ["metrics.rmse DESC"],
        ["trial-a", "trial-c", "trial-b", "trial-e", "trial-d", "tune-run"],
    ),
    "param, then metric": (
        ["params.max_depth", "metrics.`val mae` DESC"],
        ["trial-b", "trial-c", "trial-e", "trial-d", "trial-a", "tune-run"],
    ),
    "attribute": (
        ["attributes.run_name DESC"],
        ["tune-run", "trial-e", "trial-d", "trial-c", "trial-b", "trial-a"],
    ),
    "bare attribute": (
        ["start_time"],
        ["tune-run", "trial-a", "trial-b", "trial-c", "trial-d", "trial-e"],
    ),
}


@pytest.mark.parametrize("case", list(ORDERS))
def test_search_in_order(tracking: Tracking, trials: dict[str, str], case: str) -> None:
    order, expected = ORDERS[case]
    assert search(tracking, "", order) == expected


def test_search_results_carry_info_and_data(tracking: Tracking, trials: dict[str, str]) -> None:
    tune = experiment_id(tracking, "tune")
    (run,) = tracking.store.search_runs([tune], "attributes.run_name = 'trial-b'")
    assert run.info.run_id == trials["trial-b"]
    assert run.info.status == "COMPLETED"
    assert run.info.experiment_id == tune
    assert run.info.flow_run_id == trials["tune-run"]
    assert run.data.params == {"max_depth": "10", "model": "xgb-approx"}
    assert run.data.metrics == {"rmse": 5.2, "val mae": 3.9}
    assert run.data.tags == {"team": "data"}
    (by_id,) = tracking.store.search_runs([tune], f"attributes.run_id = '{trials['trial-e']}'")
    assert by_id.info.run_name == "trial-e"


@pytest.mark.parametrize("size", [1, 2, 4, 6])
def test_pages_have_no_gaps_and_no_repeats(
    tracking: Tracking, trials: dict[str, str], size: int
) -> None:
    tune = experiment_id(tracking, "tune")
    seen: list[str] = []
    token = None
    while True:
        page = tracking.store.search_runs(
            [tune], "", ["metrics.rmse ASC"], max_results=size, page_token=token
        )
        assert len(page) <= size
        seen += [r.info.run_name for r in page]
        token = page.token
        if token is None:
            break
        assert len(page) == size
    assert seen == ORDERS["metric ascending, missing last"][1]


def test_search_over_several_experiments(tracking: Tracking, trials: dict[str, str]) -> None:
    flow_and_tasks(tracking, "other")
    both = [experiment_id(tracking, "tune"), experiment_id(tracking, "other"), UNKNOWN]
    assert len(tracking.store.search_runs(both)) == 7


BAD_FILTERS = {
    "number for a param": ("params.max_depth = 10", "'10'", "quote it"),
    "string for a metric": ('metrics.rmse < "6"', "'\"6\"'", "expected a number"),
    "unknown entity": ("metric_s.rmse < 1", "'metric_s'", "unknown entity"),
    "no operator": ("metrics.rmse 6", "'6'", "expected an operator"),
    "LIKE on a metric": ("metrics.rmse LIKE 6", "'LIKE'", "expected an operator"),
    "OR": ("metrics.a < 1 or metrics.b < 2", "'or'", "only AND"),
    "dangling AND": ("metrics.a < 1 and", "at the end of the filter", "expected <entity>"),
    "unknown attribute": ("attributes.color = 'red'", "'color'", "unknown attribute"),
    "unknown status": ("attributes.status = 'DONE'", "'DONE'", "unknown status"),
    "bad character": ("metrics.rmse ~ 1", "'~'", "unexpected character"),
}


@pytest.mark.parametrize("case", list(BAD_FILTERS))
def test_bad_filters_name_the_token_and_the_grammar(
    tracking: Tracking, trials: dict[str, str], case: str
) -> None:
    text, token, problem = BAD_FILTERS[case]
    with pytest.raises(InvalidFilter) as info:
        search(tracking, text)
    message = str(info.value)
    assert token in message
    assert problem in message
    assert "A filter is comparisons joined by AND" in message


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"order": ["metrics.rmse UP"]}, "Invalid order_by clause 'metrics.rmse UP'"),
        ({"order": ["datasets.name"]}, "Invalid order_by clause 'datasets.name': runs cannot"),
        ({"order": ["color DESC"]}, "Invalid order_by clause 'color DESC'"),
        ({"page_token": "not-a-token"}, "Invalid page token"),
        ({"max_results": 0}, "max_results must be an int from 1"),
        ({"max_results": MAX_RESULTS + 1}, "max_results must be an int from 1"),
    ],
)
def test_bad_order_tokens_and_sizes(
    tracking: Tracking, trials: dict[str, str], kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidFilter, match="^" + problem.replace("(", r"\(").replace(")", r"\)")):
        search(tracking, **kwargs)


# -- writing outside runs ------------------------------------------------------------------------
def test_log_batch_records_on_flow_runs_and_task_runs(tracking: Tracking) -> None:
    run, (task,) = flow_and_tasks(tracking, "train", 1)
    s = tracking.store
    s.log_batch(
        task.id,
        metrics=[Metric("rmse", 5.0, T0, 0), Metric("rmse", 4.5, T0 + 1, 1)],
        params=[Param("max_depth", "10"), Param("max_depth", "10")],
        tags=[RunTag("stage", "eval")],
    )
    s.log_batch(run.id, metrics=[Metric("best", math.nan, T0, 0)])
    s.log_batch(task.id, params=[Param("max_depth", "10")], tags=[RunTag("stage", "final")])
    data = s.get_run_data(task.id)
    assert (data.params, data.metrics, data.tags) == (
        {"max_depth": "10"},
        {"rmse": 4.5},
        {"stage": "final"},
    )
    assert math.isnan(s.get_run_data(run.id).metrics["best"])
    assert len(s.get_metric_history(task.id, "rmse")) == 2
    found = s.get_run(task.id)
    assert found is not None
    assert found.info.experiment_id == experiment_id(tracking, "train")


def test_log_batch_refuses_a_changed_param_and_records_nothing(tracking: Tracking) -> None:
    run, _ = flow_and_tasks(tracking)
    s = tracking.store
    s.log_batch(run.id, params=[Param("lr", "0.1")])
    with pytest.raises(ParamConflict, match=r"Param 'lr' of run .* '0\.1' .*'0\.2'"):
        s.log_batch(run.id, metrics=[Metric("m", 1.0, T0, 0)], params=[Param("lr", "0.2")])
    with pytest.raises(ParamConflict, match="'a'"):
        s.log_batch(run.id, params=[Param("a", "1"), Param("a", "2")])
    assert s.get_run_data(run.id).params == {"lr": "0.1"}
    assert s.get_metric_history(run.id, "m") == []


def test_log_batch_on_an_unknown_run_or_with_bad_values(tracking: Tracking) -> None:
    run, _ = flow_and_tasks(tracking)
    s = tracking.store
    with pytest.raises(ObjectNotFound, match=UNKNOWN):
        s.log_batch(UNKNOWN, metrics=[Metric("m", 1.0, T0, 0)])
    with pytest.raises(ObjectNotFound):
        s.log_inputs(UNKNOWN, [Dataset("d", "x")])
    with pytest.raises(InvalidTrackingValue, match="has characters other than"):
        s.log_batch(run.id, metrics=[Metric("bad key!", 1.0, T0, 0)])
    with pytest.raises(InvalidTrackingValue, match="must be a number"):
        s.log_batch(run.id, metrics=[Metric("m", "x", T0, 0)])  # type: ignore[arg-type]
    with pytest.raises(InvalidTrackingValue, match="milliseconds"):
        s.log_batch(run.id, metrics=[Metric("m", 1.0, 1_750_000_000_000, 0)])
    assert not s.get_run_data(run.id)


def test_datasets_logged_outside_runs(tracking: Tracking) -> None:
    run, _ = flow_and_tasks(tracking)
    taxi = Dataset(
        "taxi-2024-01",
        "0f" * 16,
        source="data/yellow.parquet",
        context="training",
        schema={"fare": "float64"},
        num_rows=100,
        timestamp=T0,
        profile={"type": "pandas.core.frame.DataFrame"},
    )
    tracking.store.log_inputs(run.id, [taxi, taxi, dataclasses.replace(taxi, context="test")])
    found = tracking.store.list_datasets(run.id)
    assert found == [dataclasses.replace(taxi, context="test"), taxi]
    bare = Dataset("bare", "ab", timestamp=T0 + 1)
    tracking.store.log_inputs(run.id, [bare])
    assert tracking.store.list_datasets(run.id)[-1] == bare
