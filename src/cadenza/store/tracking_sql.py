"""The tracking store on SQLAlchemy Core: a mixin of :class:`cadenza.store.sql.SqlStore`.

Writing happens in two ways. Inside runs, the fluent functions emit events that
:meth:`SqlStore.apply` hands to :meth:`TrackingSqlMixin._apply_tracking` with the
rest of their batch, in the same transaction. Outside runs, :meth:`log_batch` and
:meth:`log_inputs` check the run and the params first, then apply the same events.

Every write is idempotent: metric points, params and datasets are inserted unless
present, the latest value of a metric only moves to a later point, and a tag only
takes a value set later than the one it has. Events for runs the store does not
know are dropped (and logged), as state events are.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.events import (
    DatasetLogged,
    ExperimentSet,
    MetricLogged,
    ParamsLogged,
    TagsSet,
    TrackingEvent,
)
from cadenza.exceptions import ObjectNotFound
from cadenza.store import dialects
from cadenza.store import tracking_queries as q
from cadenza.store.schema import (
    experiments,
    flow_runs,
    flows,
    latest_metrics,
    metric_points,
    run_datasets,
    run_params,
    run_tags,
    task_runs,
    tracked_runs,
)
from cadenza.store.tracking_base import (
    DEFAULT_EXPERIMENT,
    MAX_RESULTS,
    ExperimentKeys,
    TrackingStore,
)
from cadenza.tracking import values
from cadenza.tracking.errors import ExperimentAlreadyExists, InvalidFilter, ParamConflict

if TYPE_CHECKING:
    from cadenza.runs import FlowRun
    from cadenza.tracking.entities import (
        Dataset,
        Experiment,
        Metric,
        Param,
        Run,
        RunData,
        RunInfo,
        RunPage,
        RunTag,
    )

logger = logging.getLogger("cadenza.store")
T = TypeVar("T")

_POINT_COLUMNS = ("run_id", "key", "step", "timestamp", "value", "is_nan")
_LATEST_COLUMNS = ("run_id", "key", "value", "timestamp", "step", "is_nan")
_TAG_COLUMNS = ("run_id", "key", "value", "updated")
_PARAM_COLUMNS = ("run_id", "key", "value")
_DATASET_COLUMNS = (
    "run_id",
    "name",
    "digest",
    "context",
    "source",
    "schema",
    "num_rows",
    "profile",
    "timestamp",
)
_TRACKED_COLUMNS = ("run_id", "experiment_id", "kind", "flow_run_id", "created")
_EXPERIMENT_COLUMNS = ("id", "name", "created", "description")
_NEG = -math.inf


def _later(table: sa.Table, new: Any) -> Any:
    """A point later than the latest one: higher step, then timestamp, then value."""
    lowest: Any = sa.literal_column("-1e308")  # NaN (NULL) ranks below every number
    old_v = sa.func.coalesce(table.c.value, lowest)
    new_v = sa.func.coalesce(new.value, lowest)
    return sa.or_(
        new.step > table.c.step,
        sa.and_(
            new.step == table.c.step,
            sa.or_(
                new.timestamp > table.c.timestamp,
                sa.and_(new.timestamp == table.c.timestamp, new_v > old_v),
            ),
        ),
    )


class _Statements:
    """The insert statements of the tracking tables for one dialect, each built once,
    when first used: a batch of flow runs that log nothing needs only the first two."""

    def __init__(self, dialect: str) -> None:
        self._dialect = dialect

    @functools.cached_property
    def experiment(self) -> Any:
        return dialects.insert_ignore(experiments, self._dialect)

    @functools.cached_property
    def tracked(self) -> Any:
        return dialects.insert_ignore(tracked_runs, self._dialect)

    @functools.cached_property
    def param(self) -> Any:
        return dialects.insert_ignore(run_params, self._dialect)

    @functools.cached_property
    def point(self) -> Any:
        return dialects.insert_ignore(metric_points, self._dialect)

    @functools.cached_property
    def dataset(self) -> Any:
        return dialects.insert_ignore(run_datasets, self._dialect)

    @functools.cached_property
    def latest(self) -> Any:
        return dialects.upsert(
            latest_metrics,
            self._dialect,
            ("run_id", "key"),
            ("value", "timestamp", "step", "is_nan"),
            _later,
        )

    @functools.cached_property
    def tag(self) -> Any:
        return dialects.upsert(
            run_tags,
            self._dialect,
            ("run_id", "key"),
            ("value", "updated"),
            lambda t, new: new.updated >= t.c.updated,
        )


class TrackingSqlMixin(TrackingStore):
    """:class:`TrackingStore` for :class:`~cadenza.store.sql.SqlStore`."""

    if TYPE_CHECKING:
        _dialect: str

        def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T: ...

        def _read(self) -> AbstractContextManager[Connection]: ...

    _tracking_statements: _Statements | None = None

    @property
    def _st(self) -> _Statements:
        st = self._tracking_statements
        if st is None:
            st = self._tracking_statements = _Statements(self._dialect)
        return st

    # -- applying events ---------------------------------------------------------------
    def _ensure_experiments(self, conn: Connection, names: Sequence[str]) -> None:
        """Create the experiments of these names that do not exist."""
        now = time.time()
        rows = [(q.experiment_id_for(n), n, now, None) for n in dict.fromkeys(names)]
        if rows:
            dialects.execute_rows(conn, self._st.experiment, _EXPERIMENT_COLUMNS, rows)

    def _track_flow_runs(self, conn: Connection, runs: dict[str, FlowRun]) -> None:
        """Every new flow run joins the experiment named after its flow."""
        self._ensure_experiments(conn, [r.flow_name for r in runs.values()])
        rows = [
            (r.id, q.experiment_id_for(r.flow_name), "flow", r.id, r.created) for r in runs.values()
        ]
        dialects.execute_rows(conn, self._st.tracked, _TRACKED_COLUMNS, rows)

    def _ensure_tracked(self, conn: Connection, run_ids: set[str]) -> set[str]:
        """Make the runs ``run_ids`` members of their experiment if they are not yet;
        returns those that are runs of the store."""
        known = set(self._experiment_of(conn, run_ids))
        missing = run_ids - known
        if not missing:
            return known
        tasks: list[tuple[str, str | None, float]] = []
        for part in q.chunks(missing):
            query = sa.select(task_runs.c.id, task_runs.c.flow_run_id, task_runs.c.created)
            tasks.extend(
                (r, f, c) for r, f, c in conn.execute(query.where(task_runs.c.id.in_(part)))
            )
        parents = {f for _, f, _ in tasks if f is not None}
        experiment_of = self._experiment_of(conn, parents)
        # Flow runs without an experiment yet (recorded by another writer before it
        # knew of experiments): that of their flow's name.
        untracked = self._untracked_flow_runs(conn, (missing - {t[0] for t in tasks}) | parents)
        names = [name for name, _ in untracked.values()]
        if any(f is None or (f not in experiment_of and f not in untracked) for _, f, _ in tasks):
            names.append(DEFAULT_EXPERIMENT)
        self._ensure_experiments(conn, names)
        rows: list[tuple[str, str, str, str | None, float]] = [
            (rid, q.experiment_id_for(name), "flow", rid, created)
            for rid, (name, created) in untracked.items()
        ]
        experiment_of.update({r[0]: r[1] for r in rows})
        default = q.experiment_id_for(DEFAULT_EXPERIMENT)
        rows += [
            (rid, experiment_of.get(f or "", default), "task", f, created)
            for rid, f, created in tasks
        ]
        if rows:
            dialects.execute_rows(conn, self._st.tracked, _TRACKED_COLUMNS, rows)
        return known | {r[0] for r in rows if r[0] in run_ids}

    def _experiment_of(self, conn: Connection, run_ids: set[str]) -> dict[str, str]:
        """The experiment of each run of ``run_ids`` that has one."""
        out: dict[str, str] = {}
        t = tracked_runs
        for part in q.chunks(run_ids):
            query = sa.select(t.c.run_id, t.c.experiment_id).where(t.c.run_id.in_(part))
            out.update({rid: eid for rid, eid in conn.execute(query)})  # noqa: C416
        return out

    def _untracked_flow_runs(self, conn: Connection, ids: set[str]) -> dict[str, tuple[str, float]]:
        """Flow name and creation time of the flow runs of ``ids`` no experiment has."""
        out: dict[str, tuple[str, float]] = {}
        for part in q.chunks(ids):
            query = (
                sa.select(flow_runs.c.id, flows.c.name, flow_runs.c.created)
                .select_from(
                    flow_runs.join(flows, flows.c.id == flow_runs.c.flow_id).outerjoin(
                        tracked_runs, tracked_runs.c.run_id == flow_runs.c.id
                    )
                )
                .where(flow_runs.c.id.in_(part), tracked_runs.c.run_id.is_(None))
            )
            out.update({rid: (name, created) for rid, name, created in conn.execute(query)})
        return out

    def _apply_tracking(self, conn: Connection, events: Sequence[TrackingEvent]) -> None:
        """Record the tracking events of a batch (see the module)."""
        run_ids = {e.run_id for e in events}
        known = self._ensure_tracked(conn, run_ids)
        if len(known) < len(run_ids):
            unknown = sorted(run_ids - known)
            logger.warning(
                "Tracking data of %d unknown run(s) not recorded (%s).",
                len(unknown),
                ", ".join(unknown[:3]),
            )
        points: list[tuple[Any, ...]] = []
        latest: dict[tuple[str, str], tuple[Any, ...]] = {}
        params: dict[tuple[str, str], str] = {}
        tags: dict[tuple[str, str], tuple[str, float]] = {}
        datasets: list[tuple[Any, ...]] = []
        # Dispatch on the exact class, as SqlStore's batches do (mypy cannot follow it).
        for e in cast("Sequence[Any]", events):
            if e.run_id not in known:
                continue
            cls = type(e)
            if cls is MetricLogged:
                run_id, key, value, ts, step = e
                nan = value != value
                row = (run_id, key, step, ts, 0.0 if nan else value, nan)
                points.append(row)
                rank = (step, ts, _NEG if nan else value)
                best = latest.get((run_id, key))
                if best is None or rank > (best[2], best[3], _NEG if best[5] else best[4]):
                    latest[run_id, key] = row
            elif cls is ParamsLogged:
                for key, value in e.params.items():
                    params.setdefault((e.run_id, key), value)
            elif cls is TagsSet:
                stamp = e.timestamp
                for key, value in e.tags.items():
                    held = tags.get((e.run_id, key))
                    if held is None or stamp >= held[1]:
                        tags[e.run_id, key] = (value, stamp)
            elif cls is ExperimentSet:
                self._move(conn, e.run_id, e.name)
            elif cls is DatasetLogged:
                datasets.append(_dataset_row(e))
        st = self._st
        if points:
            dialects.execute_rows(conn, st.point, _POINT_COLUMNS, points)
            rows = [(r[0], r[1], None if r[5] else r[4], r[3], r[2], r[5]) for r in latest.values()]
            dialects.execute_rows(conn, st.latest, _LATEST_COLUMNS, rows)
        if params:
            self._insert_params(conn, params)
        if tags:
            dialects.execute_rows(
                conn, st.tag, _TAG_COLUMNS, [(r, k, v, s) for (r, k), (v, s) in tags.items()]
            )
        if datasets:
            dialects.execute_rows(conn, st.dataset, _DATASET_COLUMNS, datasets)

    def _insert_params(self, conn: Connection, params: dict[tuple[str, str], str]) -> None:
        existing = self._params_of(conn, {r for r, _ in params})
        for (run_id, key), value in list(params.items()):
            old = existing.get((run_id, key))
            if old is not None:
                if old != value:
                    logger.warning(
                        "Param %r of run %s is %r already; the value %r logged later is "
                        "not recorded (params cannot change).",
                        key,
                        run_id,
                        old,
                        value,
                    )
                del params[run_id, key]
        if params:
            dialects.execute_rows(
                conn, self._st.param, _PARAM_COLUMNS, [(r, k, v) for (r, k), v in params.items()]
            )

    def _params_of(self, conn: Connection, run_ids: set[str]) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for part in q.chunks(run_ids):
            query = sa.select(run_params.c.run_id, run_params.c.key, run_params.c.value).where(
                run_params.c.run_id.in_(part)
            )
            out.update({(r, k): v for r, k, v in conn.execute(query)})
        return out

    def _move(self, conn: Connection, run_id: str, name: str) -> None:
        """Move a run, and the task runs of a flow run, into the experiment ``name``."""
        self._ensure_experiments(conn, [name])
        conn.execute(
            tracked_runs.update()
            .where(sa.or_(tracked_runs.c.run_id == run_id, tracked_runs.c.flow_run_id == run_id))
            .values(experiment_id=q.experiment_id_for(name))
        )

    # -- experiments ---------------------------------------------------------------------
    def create_experiment(self, name: str, description: str | None = None) -> Experiment:
        from cadenza.tracking.entities import Experiment

        name = values.experiment_name(name)
        experiment_id = q.experiment_id_for(name)
        created = time.time()

        def create(conn: Connection) -> bool:
            found = conn.execute(
                sa.select(experiments.c.id).where(experiments.c.name == name)
            ).first()
            if found is not None:
                return False
            conn.execute(
                experiments.insert().values(
                    id=experiment_id, name=name, created=created, description=description
                )
            )
            return True

        if not self._transaction(create):
            raise ExperimentAlreadyExists(
                f"An experiment named {name!r} exists already; use "
                "get_experiment_by_name() to find its id."
            )
        return Experiment(experiment_id, name, created, description)

    def _experiments(self, where: Any = None) -> list[Experiment]:
        from cadenza.tracking.entities import Experiment

        counts = (
            sa.select(
                tracked_runs.c.experiment_id,
                sa.func.count().label("n"),
                sa.func.max(tracked_runs.c.run_id).label("last_id"),
            )
            .group_by(tracked_runs.c.experiment_id)
            .subquery()
        )
        last = tracked_runs.alias("last")
        query = (
            sa.select(
                experiments.c.id,
                experiments.c.name,
                experiments.c.created,
                experiments.c.description,
                counts.c.n,
                last.c.created,
            )
            .select_from(
                experiments.outerjoin(counts, counts.c.experiment_id == experiments.c.id).outerjoin(
                    last, last.c.run_id == counts.c.last_id
                )
            )
            .order_by(experiments.c.name)
        )
        if where is not None:
            query = query.where(where)
        with self._read() as conn:
            return [
                Experiment(eid, name, created, description, n or 0, last_created)
                for eid, name, created, description, n, last_created in conn.execute(query)
            ]

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        found = self._experiments(experiments.c.id == experiment_id)
        return found[0] if found else None

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = self._experiments(experiments.c.name == name)
        return found[0] if found else None

    def list_experiments(self) -> list[Experiment]:
        return self._experiments()

    def experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        members = sa.select(tracked_runs.c.run_id).where(
            tracked_runs.c.experiment_id == experiment_id
        )
        out = []
        with self._read() as conn:
            for table in (run_params, latest_metrics, run_tags):
                query = (
                    sa.select(table.c.key)
                    .distinct()
                    .where(table.c.run_id.in_(members))
                    .order_by(table.c.key)
                )
                out.append(list(conn.execute(query).scalars()))
        return ExperimentKeys(*out)

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run | None:
        from cadenza.tracking.entities import Run, RunData

        runs = q.run_columns()
        with self._read() as conn:
            row = conn.execute(
                sa.select(*runs.info).select_from(runs.from_).where(tracked_runs.c.run_id == run_id)
            ).first()
            info = q.info_from_row(row) if row is not None else self._untracked_info(conn, run_id)
            if info is None:
                return None
            data = q.run_data(conn, [run_id]).get(run_id, RunData())
            inputs = q.datasets(conn, run_id)
        return Run(info, data, inputs)

    def _untracked_info(self, conn: Connection, run_id: str) -> RunInfo | None:
        """The info of a run no experiment has (a task run that logged nothing)."""
        from cadenza.tracking.entities import RunInfo

        t = task_runs
        row = conn.execute(
            sa.select(
                t.c.id,
                t.c.name,
                t.c.state_type,
                t.c.flow_run_id,
                t.c.start_time,
                t.c.end_time,
                t.c.created,
            ).where(t.c.id == run_id)
        ).first()
        if row is not None:
            return RunInfo(row[0], row[1], "task", row[2], None, row[3], row[4], row[5], row[6])
        f = flow_runs
        flow_row = conn.execute(
            sa.select(
                f.c.id, f.c.name, f.c.state_type, f.c.start_time, f.c.end_time, f.c.created
            ).where(f.c.id == run_id)
        ).first()
        if flow_row is not None:
            r = flow_row
            return RunInfo(r[0], r[1], "flow", r[2], None, r[0], r[3], r[4], r[5])
        return None

    def get_run_data(self, run_id: str) -> RunData:
        from cadenza.tracking.entities import RunData

        with self._read() as conn:
            return q.run_data(conn, [run_id]).get(run_id, RunData())

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self._read() as conn:
            return q.metric_history(conn, run_id, key)

    def list_datasets(self, run_id: str) -> list[Dataset]:
        with self._read() as conn:
            return q.datasets(conn, run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        from cadenza.tracking.entities import Run, RunData, RunPage
        from cadenza.tracking.search import (
            decode_page_token,
            encode_page_token,
            parse_filter,
            parse_order_by,
        )

        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        check_max_results(max_results)
        comparisons = parse_filter(filter_string)
        order = parse_order_by(order_by)
        offset = decode_page_token(page_token)
        if not experiment_ids:
            return RunPage([])
        query = q.search_query(
            experiment_ids, comparisons, order, self._dialect, offset=offset, limit=max_results + 1
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            page = q.infos_from_rows(rows[:max_results])
            data = q.run_data(conn, [i.run_id for i in page])
        runs = [Run(i, data.get(i.run_id, RunData())) for i in page]
        more = len(rows) > max_results
        return RunPage(runs, encode_page_token(offset + max_results) if more else None)

    # -- writing ---------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        events = batch_events(run_id, metrics, params, tags)
        wanted = {k: v for e in events if type(e) is ParamsLogged for k, v in e.params.items()}

        def write(conn: Connection) -> None:
            if not self._ensure_tracked(conn, {run_id}):
                raise ObjectNotFound(f"There is no flow run or task run with id {run_id!r}.")
            if wanted:
                existing = self._params_of(conn, {run_id})
                for key, value in wanted.items():
                    old = existing.get((run_id, key))
                    if old is not None and old != value:
                        raise param_conflict(run_id, key, old, value)
            self._apply_tracking(conn, events)

        self._transaction(write)

    def log_inputs(self, run_id: str, datasets: Sequence[Dataset]) -> None:
        events = [dataset_event(run_id, d) for d in datasets]

        def write(conn: Connection) -> None:
            if not self._ensure_tracked(conn, {run_id}):
                raise ObjectNotFound(f"There is no flow run or task run with id {run_id!r}.")
            self._apply_tracking(conn, events)

        self._transaction(write)


# -- shared with the other implementations ---------------------------------------------------
def check_max_results(max_results: int) -> None:
    """Raise :class:`InvalidFilter` unless ``max_results`` is a page size allowed."""
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= MAX_RESULTS
    ):
        raise InvalidFilter(
            f"max_results must be an int from 1 to {MAX_RESULTS}, not {max_results!r}; "
            "use page_token to read more."
        )


def param_conflict(run_id: str, key: str, old: str, new: str) -> ParamConflict:
    return ParamConflict(
        f"Param {key!r} of run {run_id} was logged with the value {old!r} already and "
        f"cannot change to {new!r}: params are immutable. Log it under another key, or "
        "record values that change as metrics or tags."
    )


def batch_events(
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Sequence[Param] = (),
    tags: Sequence[RunTag] = (),
) -> list[TrackingEvent]:
    """The events recording ``metrics``, ``params`` and ``tags``, their keys and values
    checked (see :mod:`cadenza.tracking.values`).

    Raises:
        InvalidTrackingValue: a key or value is not valid.
        ParamConflict: ``params`` gives one key two values.
    """
    events: list[TrackingEvent] = []
    now = time.time()
    for m in metrics:
        key = values.check_key(m.key, "metric key")
        ts = now if m.timestamp is None else values.timestamp_value(m.timestamp, key)
        events.append(
            MetricLogged(
                run_id, key, values.metric_value(m.value, key), ts, values.step_value(m.step, key)
            )
        )
    if params:
        given: dict[str, str] = {}
        for p in params:
            key = values.check_key(p.key, "param key")
            value = values.param_value(p.value, key)
            if given.get(key, value) != value:
                raise param_conflict(run_id, key, given[key], value)
            given[key] = value
        events.append(ParamsLogged(run_id, given))
    if tags:
        events.append(
            TagsSet(
                run_id,
                {
                    values.check_key(t.key, "tag key"): values.tag_value(t.value, t.key)
                    for t in tags
                },
                now,
            )
        )
    return events


def dataset_event(run_id: str, d: Dataset) -> DatasetLogged:
    return DatasetLogged(
        run_id,
        d.name,
        d.digest,
        d.source,
        d.context,
        d.schema,
        d.num_rows,
        d.profile,
        d.timestamp or time.time(),
    )


def _dataset_row(e: DatasetLogged) -> tuple[Any, ...]:
    return (
        e.run_id,
        e.name,
        e.digest,
        e.context or "",
        e.source,
        json.dumps(e.schema) if e.schema is not None else None,
        e.num_rows,
        json.dumps(e.profile, default=str) if e.profile is not None else None,
        e.timestamp,
    )
