"""The run store on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import time
import weakref
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.events import (
    TRACKING_EVENTS,
    ArtifactCreated,
    Event,
    FlowRunCreated,
    FlowRunProcessChanged,
    FlowRunStateChanged,
    LogEmitted,
    TaskRunCreated,
    TaskRunStateChanged,
)
from cadenza.exceptions import StoreError, StoreSchemaError
from cadenza.runs import Artifact, FlowRecord, FlowRun, LogEntry, TaskRun
from cadenza.states import State, StateType
from cadenza.store import artifact_queries, dialects, rows
from cadenza.store.base import FlowRunFilter, RunStore
from cadenza.store.concurrency_sql import ConcurrencySqlMixin
from cadenza.store.deploy_runs import DeploymentRunsSqlMixin
from cadenza.store.deploy_sql import DeploymentSqlMixin
from cadenza.store.monitor_sql import MonitorSqlMixin
from cadenza.store.notify_sql import NotificationSqlMixin
from cadenza.store.registry_sql import SqlRegistryMixin
from cadenza.store.run_queries import (
    apply_filter,
    count_matching,
    flow_id_for,
    flow_run_from_row,
    flow_run_ids,
    flow_run_select,
    log_query,
    task_run_from_row,
    task_run_select,
)
from cadenza.store.schema import (
    SCHEMA_VERSION,
    alembic_version,
    artifacts,
    flow_run_tags,
    flow_runs,
    flows,
    logs,
    metadata,
    task_runs,
)
from cadenza.store.tracking_sql import TrackingSqlMixin
from cadenza.store.worker_sql import WorkerSqlMixin

T = TypeVar("T")
R = TypeVar("R", FlowRun, TaskRun)
_CHUNK = 500
_MAX_RACE_RETRIES = 3
"""Attempts again after a constraint error that a concurrent writer may have caused
(see :func:`dialects.is_race`); one is enough unless writers keep racing."""
_CORE_TABLES = frozenset({"flows", "flow_runs", "task_runs", "logs"})
"""Tables every cadenza database has had since the first schema."""


class SqlStore(
    SqlRegistryMixin,
    TrackingSqlMixin,
    RunStore,
    DeploymentSqlMixin,
    DeploymentRunsSqlMixin,
    WorkerSqlMixin,
    ConcurrencySqlMixin,
    MonitorSqlMixin,
    NotificationSqlMixin,
):
    """A :class:`RunStore`, a :class:`~cadenza.store.tracking_base.TrackingStore`, the
    model registry's :class:`~cadenza.store.registry_base.RegistryStore`, a
    :class:`~cadenza.store.deploy_base.DeploymentStore` (with workers, concurrency
    limits and the monitor's :class:`~cadenza.store.monitor_base.MonitorStore`) and a
    :class:`~cadenza.store.notify_base.NotificationStore` in a SQL database.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
        create: create the schema in an empty database (the default); when False an
            empty database is an error.
        busy_timeout: seconds to keep retrying a write that another writer blocks.
    """

    def __init__(self, url: str, *, create: bool = True, busy_timeout: float = 120.0) -> None:
        self.url = url
        self._url_obj = sa.engine.make_url(url)
        self._where: str = (
            self._url_obj.database or url if self.is_sqlite else self._url_obj.render_as_string()
        )
        self._closed = False
        if self.is_sqlite and self._url_obj.database not in (None, "", ":memory:"):
            self._make_folder(self._url_obj.database)
        self.engine = dialects.create_engine(url)
        self._dialect = self.engine.dialect.name
        self._busy_timeout = busy_timeout
        self._insert_flow = dialects.insert_ignore(flows, self._dialect)
        self._insert_flow_run = dialects.insert_ignore(flow_runs, self._dialect)
        self._insert_tag = dialects.insert_ignore(flow_run_tags, self._dialect)
        self._insert_task_run = dialects.insert_ignore(task_runs, self._dialect)
        self._insert_log = dialects.insert_ignore(logs, self._dialect)
        self._insert_artifact = dialects.insert_ignore(artifacts, self._dialect)
        self._known_flows: set[str] = set()
        _open_stores.add(self)
        try:
            self._check_schema(create)
        except BaseException:
            self.close()
            raise

    def _make_folder(self, database: str) -> None:
        from pathlib import Path

        if database.startswith("file:"):
            return  # a URI filename (``sqlite:///file:path?mode=ro&uri=true``)
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Could not create the folder {folder} of the cadenza database "
                f"({exc.strerror or exc}). Set CADENZA_HOME to a folder you can write to, "
                "or CADENZA_DATABASE_URL to another database."
            ) from exc

    @property
    def is_sqlite(self) -> bool:
        return self._url_obj.get_backend_name() == "sqlite"

    # -- transactions ------------------------------------------------------------------
    def _transaction(self, fn: Callable[[Connection], T], *, readonly: bool = False) -> T:
        """Run ``fn`` in a write transaction (a read transaction when ``readonly``),
        retrying while another writer keeps the database busy, and (PostgreSQL) after a
        constraint error that a writer committing first may have caused."""
        self._check_open()
        deadline = time.monotonic() + self._busy_timeout
        delay = 0.01
        races = 0
        engine: Any = self.engine
        if readonly:
            engine = engine.execution_options(cadenza_readonly=True)
        while True:
            try:
                with engine.begin() as conn:
                    return fn(conn)
            except sa.exc.SQLAlchemyError as exc:
                if dialects.is_busy(exc) and time.monotonic() < deadline:
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 1.0)
                    continue
                if dialects.is_race(exc) and races < _MAX_RACE_RETRIES:
                    # Another writer committed first: the next attempt sees its rows.
                    races += 1
                    continue
                raise dialects.translate(exc, self._where) from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._check_open()
        try:
            with self.engine.connect().execution_options(cadenza_readonly=True) as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise dialects.translate(exc, self._where) from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"The store of {self._where} is closed; open it again.")

    # -- schema ----------------------------------------------------------------------------
    def _check_schema(self, create: bool) -> None:
        """Check the schema in a read transaction; take the write lock only to create it.

        A database that has the schema is thus opened without writing, also when it is
        read-only or another process holds its write lock.
        """

        def check(conn: Connection) -> bool:
            names = set(sa.inspect(conn).get_table_names())
            if not names:
                return False
            self._verify_schema(conn, names)
            self._note_automations(conn)
            return True

        def create_schema(conn: Connection) -> None:
            dialects.lock_for_schema_setup(conn)
            if check(conn):  # another process created it meanwhile
                return
            # The database has no table and this transaction holds the schema lock:
            # nothing to look up before each CREATE.
            metadata.create_all(conn, checkfirst=False)
            alembic_version.create(conn)
            conn.execute(alembic_version.insert().values(version_num=SCHEMA_VERSION))
            self._note_automations(None)

        if self._transaction(check, readonly=True):
            return
        if not create:
            raise StoreSchemaError(
                f"The database at {self._where} is empty. Run `cadenza db upgrade`."
            )
        self._transaction(create_schema)

    def _verify_schema(self, conn: Connection, names: set[str]) -> None:
        """Raise :class:`StoreSchemaError` unless the tables ``names`` are cadenza's,
        at the version this cadenza uses."""
        if "alembic_version" not in names or not names >= _CORE_TABLES:
            raise StoreSchemaError(
                f"The database at {self._where} holds tables that are not cadenza's "
                f"({', '.join(sorted(names - _CORE_TABLES)[:5])}). Point "
                "CADENZA_DATABASE_URL or "
                "CADENZA_HOME at a database of cadenza's own."
            )
        found = conn.execute(sa.select(alembic_version.c.version_num)).scalar()
        if found != SCHEMA_VERSION:
            raise StoreSchemaError(self._schema_message(found))

    def _schema_message(self, found: str | None) -> str:
        from cadenza.store.migrate import known_revisions

        if found in known_revisions():
            return (
                f"The database at {self._where} has schema version {found}; this version "
                f"of cadenza needs {SCHEMA_VERSION}. Run `cadenza db upgrade` to migrate it "
                "(back up the file first if it matters)."
            )
        return (
            f"The database at {self._where} has schema version {found!r}, which this "
            f"version of cadenza does not know (it needs {SCHEMA_VERSION}); it was "
            "probably written by a newer cadenza. Upgrade cadenza."
        )

    # -- writing -----------------------------------------------------------------------
    def apply(self, events: Sequence[Event]) -> None:
        if not events:
            return
        batch = _Batch(events)
        new_flows = [f for f in batch.flows.items() if f[1] not in self._known_flows]
        self._transaction(lambda conn: self._apply(conn, batch, new_flows))
        self._known_flows.update(fid for _, fid in new_flows)

    def _apply(self, conn: Connection, b: _Batch, new_flows: list[tuple[str, str]]) -> None:
        if new_flows:
            now = time.time()
            conn.execute(
                self._insert_flow, [{"id": fid, "name": n, "created": now} for n, fid in new_flows]
            )
        if b.task_runs:
            self._drop_orphans(conn, b)
        self._insert_runs(
            conn,
            flow_runs,
            self._insert_flow_run,
            rows.FLOW_RUN_COLUMNS,
            b.flow_runs,
            b.flow_states,
            lambda run, h: rows.flow_run_row(run, flow_id_for(run.flow_name), h),
        )
        tags = [(tag, r.id) for r in b.flow_runs.values() for tag in dict.fromkeys(r.tags)]
        if tags:
            dialects.execute_rows(conn, self._insert_tag, ("tag", "flow_run_id"), tags)
        self._insert_runs(
            conn,
            task_runs,
            self._insert_task_run,
            rows.TASK_RUN_COLUMNS,
            b.task_runs,
            b.task_states,
            rows.task_run_row,
        )
        if b.processes:
            # After the inserts: the run may have been created earlier in the batch.
            dialects.execute_rows(
                conn, _UPDATE_PROCESS, ("b_host", "b_pid", "b_id"), list(b.processes.values())
            )
        if b.logs:
            dialects.execute_rows(conn, self._insert_log, rows.LOG_COLUMNS, rows.log_rows(b.logs))
        if b.artifacts:
            dialects.execute_rows(
                conn, self._insert_artifact, rows.ARTIFACT_COLUMNS, rows.artifact_rows(b.artifacts)
            )
        if b.flow_runs:
            self._track_flow_runs(conn, b.flow_runs)
        if b.tracking:
            self._apply_tracking(conn, b.tracking)

    def _insert_runs(
        self,
        conn: Connection,
        table: sa.Table,
        insert: Any,
        columns: tuple[str, ...],
        created: dict[str, R],
        states: dict[str, list[State]],
        to_row: Callable[[R, list[State]], tuple[Any, ...]],
    ) -> None:
        """Insert the runs created in the batch with their states, then add the states
        of runs created earlier."""
        if created:
            histories = [states.pop(run_id, []) for run_id in created]
            new_rows = [to_row(r, h) for r, h in zip(created.values(), histories, strict=True)]
            inserted = dialects.execute_rows(conn, insert, columns, new_rows)
            if inserted != len(new_rows):
                # Some runs existed already (a batch delivered again). Send every
                # state of the batch through the update path, which skips the
                # states a run's history holds already.
                for run_id, history in zip(created, histories, strict=True):
                    if history:
                        states.setdefault(run_id, []).extend(history)
        if states:
            self._append_states(conn, table, states)

    def _drop_orphans(self, conn: Connection, b: _Batch) -> None:
        """Leave out task runs whose flow run is neither in the store nor in the batch."""
        outside = {r.flow_run_id for r in b.task_runs.values()}
        outside.discard(None)
        outside.difference_update(b.flow_runs)
        if not outside:
            return
        known = set(
            conn.execute(
                sa.select(flow_runs.c.id).where(flow_runs.c.id.in_(list(outside)))
            ).scalars()
        )
        if len(known) == len(outside):
            return
        for run_id, run in list(b.task_runs.items()):
            if run.flow_run_id in outside and run.flow_run_id not in known:
                del b.task_runs[run_id]
                b.task_states.pop(run_id, None)

    def _append_states(
        self, conn: Connection, table: sa.Table, states: dict[str, list[State]]
    ) -> None:
        """Add states to the histories of runs created in earlier batches.

        Usually one UPDATE per run, without reading the row: it appends the new
        entries to the stored JSON and adjusts the current-state columns, on the
        condition that none of the new timestamps appears in the stored history.
        Runs it leaves alone (unknown runs, histories stored as NULL, and states
        perhaps recorded already) go through :meth:`_merge_states`, which reads and
        compares the histories.
        """
        by_size: dict[int, list[tuple[Any, ...]]] = {}
        slow: dict[str, list[State]] = {}
        append_params = rows.append_params
        unique_states = rows.unique_states
        for run_id, new in states.items():
            new = unique_states(new)
            if len(new) > _MAX_APPENDED:
                slow[run_id] = new
                continue
            params = by_size.get(len(new))
            if params is None:
                params = by_size[len(new)] = []
            params.append(append_params(run_id, new))
        for size, params in by_size.items():
            statement = _append_statement(table, size)
            changed = dialects.execute_rows(conn, statement, rows.append_columns(size), params)
            if changed != len(params):
                for p in params:
                    slow[p[_ID_PARAM]] = states[p[_ID_PARAM]]
        if slow:
            self._merge_states(conn, table, slow)

    def _merge_states(
        self, conn: Connection, table: sa.Table, states: dict[str, list[State]]
    ) -> None:
        ids = list(states)
        updates = []
        merged = rows.merged
        c = table.c
        for i in range(0, len(ids), _CHUNK):
            found = conn.execute(
                sa.select(c.id, c.history, c.created, c.start_time, c.end_time)
                .where(c.id.in_(ids[i : i + _CHUNK]))
                # PostgreSQL: no other writer changes the rows between this read and the
                # write of their merged histories. SQLite holds the write lock already.
                .with_for_update()
            ).all()
            for rid, text, created, start_time, end_time in found:
                columns = merged(text, created, start_time, end_time, states[rid])
                if columns is not None:
                    updates.append((*columns, rid))
        if updates:
            dialects.execute_rows(conn, _UPDATE_STATES[table.name], _UPDATE_COLUMNS, updates)

    def add_flow_run_state_if(
        self, flow_run_id: str, state: State, *, current: Collection[StateType]
    ) -> bool:
        allowed = [StateType(t).value for t in current]
        if not allowed:
            return False
        check = (
            sa.select(flow_runs.c.id)
            .where(flow_runs.c.id == flow_run_id, flow_runs.c.state_type.in_(allowed))
            .with_for_update()  # PostgreSQL: lock the row; SQLite holds the write lock
        )
        batch = _Batch([FlowRunStateChanged(flow_run_id, state)])

        def add(conn: Connection) -> bool:
            if conn.execute(check).first() is None:
                return False
            self._apply(conn, batch, [])
            return True

        return self._transaction(add)

    # -- reading -------------------------------------------------------------------------
    def read_flow_run(self, flow_run_id: str) -> FlowRun | None:
        with self._read() as conn:
            row = conn.execute(
                flow_run_select(with_history=True).where(flow_runs.c.id == flow_run_id)
            ).first()
        return flow_run_from_row(row, with_history=True) if row else None

    def read_task_run(self, task_run_id: str) -> TaskRun | None:
        with self._read() as conn:
            row = conn.execute(
                task_run_select(with_history=True).where(task_runs.c.id == task_run_id)
            ).first()
        return task_run_from_row(row, with_history=True) if row else None

    def list_flow_runs(
        self,
        filter: FlowRunFilter | None = None,
        *,
        limit: int = 100,
        before_id: str | None = None,
        after_id: str | None = None,
        oldest_first: bool = False,
    ) -> list[FlowRun]:
        if limit <= 0:
            return []
        ids_query = flow_run_ids(
            filter, limit=limit, before_id=before_id, after_id=after_id, oldest_first=oldest_first
        )
        with self._read() as conn:
            # Two steps: the ids of the page (from indexes where possible), then its rows.
            ids = list(conn.execute(ids_query).scalars())
            if not ids:
                return []
            found = {
                r.id: flow_run_from_row(r, with_history=False)
                for r in conn.execute(
                    flow_run_select(with_history=False).where(flow_runs.c.id.in_(ids))
                )
            }
        return [found[i] for i in ids if i in found]

    def count_flow_runs_by_state(
        self, filter: FlowRunFilter | None = None, *, bucket_seconds: float | None = None
    ) -> list[tuple[float | None, StateType, int]]:
        count = sa.func.count().label("n")
        if bucket_seconds is None:
            query = sa.select(flow_runs.c.state_type, count).group_by(flow_runs.c.state_type)
        else:
            if bucket_seconds <= 0:
                raise ValueError(f"bucket_seconds must be positive, got {bucket_seconds}.")
            bucket = dialects.floor_div(flow_runs.c.created, bucket_seconds, self._dialect)
            query = (
                sa.select(bucket.label("bucket"), flow_runs.c.state_type, count)
                .group_by(bucket, flow_runs.c.state_type)
                .order_by(bucket)
            )
        query = apply_filter(query.where(flow_runs.c.state_type.is_not(None)), filter)
        out: list[tuple[float | None, StateType, int]] = []
        with self._read() as conn:
            for row in conn.execute(query):
                start = None if bucket_seconds is None else float(row.bucket) * bucket_seconds
                out.append((start, StateType(row.state_type), int(row.n)))
        return out

    def count_flow_runs(self, filter: FlowRunFilter | None = None) -> int:
        with self._read() as conn:
            return int(conn.execute(count_matching(filter)).scalar() or 0)

    def list_task_runs(
        self, flow_run_id: str, *, limit: int | None = None, after_id: str | None = None
    ) -> list[TaskRun]:
        query = task_run_select(with_history=False).where(task_runs.c.flow_run_id == flow_run_id)
        if after_id is not None:
            query = query.where(task_runs.c.id > after_id)
        query = query.order_by(task_runs.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [task_run_from_row(r, with_history=False) for r in conn.execute(query)]

    def count_task_runs_by_state(self, flow_run_id: str) -> dict[StateType, int]:
        query = (
            sa.select(task_runs.c.state_type, sa.func.count())
            .where(task_runs.c.flow_run_id == flow_run_id, task_runs.c.state_type.is_not(None))
            .group_by(task_runs.c.state_type)
        )
        with self._read() as conn:
            return {StateType(t): int(n) for t, n in conn.execute(query)}

    def list_flows(self) -> list[FlowRecord]:
        # Counts and latest ids from the (flow_id, id) index alone, then one row each.
        counts = (
            sa.select(
                flow_runs.c.flow_id,
                sa.func.count().label("n"),
                sa.func.max(flow_runs.c.id).label("last_id"),
            )
            .group_by(flow_runs.c.flow_id)
            .subquery()
        )
        latest = flow_runs.alias("latest")
        query = (
            sa.select(
                flows.c.id,
                flows.c.name,
                flows.c.created,
                counts.c.n,
                latest.c.created,
                latest.c.state_type,
                latest.c.state_name,
                latest.c.state_timestamp,
            )
            .select_from(
                flows.outerjoin(counts, counts.c.flow_id == flows.c.id).outerjoin(
                    latest, latest.c.id == counts.c.last_id
                )
            )
            .order_by(flows.c.name)
        )
        out = []
        with self._read() as conn:
            for fid, name, created, n, last, stype, sname, stime in conn.execute(query):
                state = State(StateType(stype), sname, timestamp=stime) if stype else None
                out.append(FlowRecord(fid, name, created, n or 0, last, state))
        return out

    def list_flow_names(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(sa.select(flows.c.name).order_by(flows.c.name)).scalars())

    def read_logs(
        self,
        flow_run_id: str,
        *,
        task_run_id: str | None = None,
        after_id: int | None = None,
        limit: int | None = None,
        min_level: int = 0,
        include_subflows: bool = False,
    ) -> list[LogEntry]:
        with self._read() as conn:
            run_ids = [flow_run_id]
            if include_subflows:
                frontier = [flow_run_id]
                while frontier:
                    frontier = list(
                        conn.execute(
                            sa.select(flow_runs.c.id).where(
                                flow_runs.c.parent_flow_run_id.in_(frontier)
                            )
                        ).scalars()
                    )
                    run_ids.extend(frontier)
            query = log_query(
                run_ids,
                task_run_id=task_run_id,
                after_id=after_id,
                min_level=min_level,
                limit=limit,
            )
            return [
                LogEntry(
                    r.flow_run_id, r.task_run_id, r.level, r.name, r.message, r.timestamp, r.id
                )
                for r in conn.execute(query)
            ]

    def resolve_run_id(self, prefix: str) -> list[str]:
        return self._resolve_ids((flow_runs, task_runs), prefix)

    def _resolve_ids(self, tables: sa.Table | tuple[sa.Table, ...], prefix: str) -> list[str]:
        """Ids starting with ``prefix`` in ``tables``, table by table, at most 10."""
        prefix = prefix.strip().lower()
        if not prefix:
            return []
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        out: list[str] = []
        with self._read() as conn:
            for table in tables if isinstance(tables, tuple) else (tables,):
                q = (
                    sa.select(table.c.id)
                    .where(table.c.id >= prefix, table.c.id < upper)
                    .order_by(table.c.id)
                    .limit(10 - len(out))
                )
                out.extend(conn.execute(q).scalars())
                if len(out) >= 10:
                    break
        return out

    # -- artifacts -------------------------------------------------------------------------
    def read_artifact(self, artifact_id: str) -> Artifact | None:
        query = artifact_queries.select().where(artifacts.c.id == artifact_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        return artifact_queries.from_row(row) if row else None

    def read_artifact_by_key(self, key: str, *, version: int | None = None) -> Artifact | None:
        query = artifact_queries.select().where(artifacts.c.key == key)
        if version is None:
            query = query.order_by(artifacts.c.id.desc()).limit(1)
        elif version < 1:
            return None
        else:
            query = query.order_by(artifacts.c.id).offset(version - 1).limit(1)
        with self._read() as conn:
            row = conn.execute(query).first()
        return artifact_queries.from_row(row) if row else None

    def list_artifacts(
        self,
        *,
        key: str | None = None,
        flow_run_id: str | None = None,
        task_run_id: str | None = None,
        latest_only: bool = False,
        limit: int = 100,
        before_id: str | None = None,
    ) -> list[Artifact]:
        query = artifact_queries.listing(
            key=key, flow_run_id=flow_run_id, task_run_id=task_run_id, latest_only=latest_only
        )
        if before_id is not None:
            query = query.where(artifacts.c.id < before_id)
        query = query.order_by(artifacts.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [artifact_queries.from_row(r) for r in conn.execute(query)]

    def resolve_artifact_id(self, prefix: str) -> list[str]:
        return self._resolve_ids(artifacts, prefix)

    def close(self) -> None:
        self._closed = True
        self.engine.dispose()


_UPDATE_COLUMNS = (*rows.STATE_COLUMNS, "history", "b_id")
_UPDATE_STATES = {
    table.name: table.update()
    .where(table.c.id == sa.bindparam("b_id"))
    .values({name: sa.bindparam(name) for name in _UPDATE_COLUMNS[:-1]})
    for table in (flow_runs, task_runs)
}
"""Per table: set the state columns and history of the run with id ``b_id``."""

_UPDATE_PROCESS = (
    flow_runs.update()
    .where(flow_runs.c.id == sa.bindparam("b_id"))
    .values(hostname=sa.bindparam("b_host"), pid=sa.bindparam("b_pid"))
)
"""Record the process now running a flow run (:class:`FlowRunProcessChanged`)."""

_MAX_APPENDED = 6
"""Runs gaining more states in one batch take the slow path (and make no more statements)."""
_ID_PARAM = rows.append_columns(0).index("b_id")
_append_statements: dict[tuple[str, int], Any] = {}


def _append_statement(table: sa.Table, n_states: int) -> Any:
    """The UPDATE appending ``n_states`` states to a run's history.

    See :meth:`SqlStore._append_states`. Its only parameters are those named by
    :func:`rows.append_columns`; everything else is an SQL literal.
    """
    key = (table.name, n_states)
    statement = _append_statements.get(key)
    if statement is not None:
        return statement
    c = table.c
    lit = sa.literal_column

    def text(name: str) -> Any:
        return sa.bindparam(name, type_=sa.String)

    unseen = [
        c.history.not_like(lit("'%'").op("||")(text(f"b_ts{i}")).op("||")(lit("'%'")))
        for i in range(n_states)
    ]
    head = sa.case(
        (c.history == lit("'[]'"), lit("'['")),
        else_=sa.func.substr(c.history, lit("1"), sa.func.length(c.history) - lit("1")).op("||")(
            lit("','")
        ),
    )
    statement = (
        table.update()
        .where(c.id == text("b_id"), c.history.is_not(None), *unseen)
        .values(
            state_type=text("b_type"),
            state_name=text("b_name"),
            state_message=text("b_message"),
            state_timestamp=sa.bindparam("b_timestamp", type_=sa.Float),
            run_count=c.run_count + sa.bindparam("b_running", type_=sa.Integer),
            start_time=sa.func.coalesce(c.start_time, sa.bindparam("b_start", type_=sa.Float)),
            end_time=sa.bindparam("b_end", type_=sa.Float),
            history=head.op("||")(text("b_entries")).op("||")(lit("']'")),
        )
    )
    _append_statements[key] = statement
    return statement


# -- batch planning ----------------------------------------------------------------------
class _Batch:
    """Events of one batch grouped by table, in order."""

    __slots__ = (
        "artifacts",
        "flow_runs",
        "flow_states",
        "flows",
        "logs",
        "processes",
        "task_runs",
        "task_states",
        "tracking",
    )

    def __init__(self, events: Sequence[Event]) -> None:
        self.flows: dict[str, str] = {}
        self.flow_runs: dict[str, FlowRun] = {}
        self.task_runs: dict[str, TaskRun] = {}
        self.flow_states: dict[str, list[State]] = {}
        self.task_states: dict[str, list[State]] = {}
        self.logs: list[LogEntry] = []
        self.artifacts: list[ArtifactCreated] = []
        self.tracking: list[Any] = []
        self.processes: dict[str, tuple[str, int, str]] = {}
        """The last process of each flow run given in the batch: (host, pid, run id)."""
        task_states = self.task_states
        task_runs = self.task_runs
        run_id: str
        state: State | None
        # Dispatch on the exact class: faster than isinstance for the most frequent
        # events, which mypy cannot follow (hence the cast).
        for ev in cast("Sequence[Any]", events):
            cls = type(ev)
            if cls is TaskRunStateChanged:
                run_id, state = ev
                states = task_states.get(run_id)
                if states is None:
                    task_states[run_id] = [state]
                else:
                    states.append(state)
            elif cls is TaskRunCreated:
                task_run: TaskRun = ev[0]
                state = ev[1]
                task_runs[task_run.id] = task_run
                if state is not None:
                    task_states.setdefault(task_run.id, []).append(state)
            elif cls is LogEmitted:
                self.logs.append(ev[0])
            elif cls is FlowRunStateChanged:
                self.flow_states.setdefault(ev[0], []).append(ev[1])
            elif cls is FlowRunCreated:
                run: FlowRun = ev[0]
                state = ev[1]
                self.flow_runs[run.id] = run
                if state is not None:
                    self.flow_states.setdefault(run.id, []).append(state)
                if run.flow_name not in self.flows:
                    self.flows[run.flow_name] = flow_id_for(run.flow_name)
            elif cls is ArtifactCreated:
                self.artifacts.append(ev)
            elif cls in TRACKING_EVENTS:
                self.tracking.append(ev)
            elif cls is FlowRunProcessChanged:
                self.processes[ev[0]] = (ev[1], ev[2], ev[0])


_open_stores: weakref.WeakSet[SqlStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A connection must not be used by two processes: the child opens its own and
    # leaves the parent's alone (not closing them, which would touch the parent's).
    for store in list(_open_stores):
        store.engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
