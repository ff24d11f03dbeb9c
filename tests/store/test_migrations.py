"""Schema versions: the Alembic migrations, the tables of ``schema.py`` and the check
made when a database is opened."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cadenza.events import ArtifactCreated
from cadenza.exceptions import StoreSchemaError
from cadenza.store.base import FlowRunFilter
from cadenza.store.migrate import alembic_config, current_revision, known_revisions, upgrade
from cadenza.store.schema import SCHEMA_VERSION, metadata
from cadenza.store.sql import SqlStore, flow_id_for
from tests.store import make, raw
from tests.store.backends import BACKENDS, Backend
from tests.store.make import T0, Clock


@pytest.fixture(params=BACKENDS, ids=str)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def url(backend: Backend, request: pytest.FixtureRequest) -> str:
    """An empty database of each backend."""
    return backend.fresh_url(request)


def schema_of(url: str) -> dict[str, Any]:
    """Everything about the tables of a database that matters, comparable with ==."""
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        out: dict[str, Any] = {}
        for table in sorted(insp.get_table_names()):
            if table == "alembic_version":
                continue
            out[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in insp.get_columns(table)
                ],
                "pk": insp.get_pk_constraint(table)["constrained_columns"],
                "fks": sorted(
                    (
                        tuple(fk["constrained_columns"]),
                        fk["referred_table"],
                        fk["options"].get("ondelete"),
                    )
                    for fk in insp.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in insp.get_unique_constraints(table)
                ),
            }
        return out
    finally:
        engine.dispose()


def differences(url: str) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def test_schema_version_is_the_alembic_head(url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(url))
    assert script.get_heads() == [SCHEMA_VERSION]
    revisions = [r.revision for r in script.walk_revisions()]
    assert sorted(revisions) == known_revisions()
    assert known_revisions()[-1] == SCHEMA_VERSION


def test_migrations_build_exactly_the_tables_of_the_schema(
    url: str, backend: Backend, request: pytest.FixtureRequest
) -> None:
    assert upgrade(url) == (None, SCHEMA_VERSION)
    assert differences(url) == []
    created = backend.fresh_url(request)
    engine = sa.create_engine(created)
    metadata.create_all(engine)
    engine.dispose()
    assert schema_of(url) == schema_of(created)
    assert set(schema_of(url)) == {
        "flows",
        "flow_runs",
        "flow_run_tags",
        "task_runs",
        "logs",
        "artifacts",
        "experiments",
        "tracked_runs",
        "run_params",
        "run_tags",
        "metric_points",
        "latest_metrics",
        "run_datasets",
        "registered_models",
        "registered_model_tags",
        "model_versions",
        "model_version_tags",
        "registered_model_aliases",
        "model_transitions",
        "logged_models",
        "notification_channels",
        "automations",
        "notification_outbox",
        "notification_attempts",
        "notification_cursors",
        "notification_marks",
        "deployments",
        "deployment_schedules",
        "work_pools",
        "work_queues",
        "workers",
        "concurrency_limits",
        "concurrency_slots",
    }


def test_migrations_go_down_and_up_again(url: str) -> None:
    upgrade(url)
    cfg = alembic_config(url)
    command.downgrade(cfg, "base")
    assert set(schema_of(url)) == set()
    assert current_revision(url) is None
    upgrade(url)
    assert differences(url) == []


def test_a_database_created_by_the_store_is_at_head(url: str) -> None:
    SqlStore(url).close()
    assert current_revision(url) == SCHEMA_VERSION
    assert differences(url) == []
    command.check(alembic_config(url))  # raises when autogenerate would find changes
    assert upgrade(url) == (SCHEMA_VERSION, SCHEMA_VERSION)
    SqlStore(url).close()


def test_an_empty_database_is_refused_when_not_asked_to_create(url: str) -> None:
    with pytest.raises(StoreSchemaError, match=r"is empty\. Run `cadenza db upgrade`"):
        SqlStore(url, create=False)


@pytest.mark.parametrize("older", known_revisions()[:-1])
def test_an_older_database_names_the_command_to_run_then_upgrades(url: str, older: str) -> None:
    upgrade(url, older)
    _record_a_run_with_sql(url)
    with pytest.raises(StoreSchemaError) as info:
        SqlStore(url)
    message = str(info.value)
    assert f"schema version {older}" in message
    assert f"needs {SCHEMA_VERSION}" in message
    assert "Run `cadenza db upgrade`" in message
    assert raw.where(url) in message

    assert upgrade(url) == (older, SCHEMA_VERSION)
    store = SqlStore(url)
    try:
        (run,) = store.list_flow_runs()
        assert run.name == "old-run"
        assert run.entrypoint is None
        assert store.list_artifacts() == []
        assert [e.message for e in store.read_logs(run.id)] == ["written by an older cadenza"]
        # Lines written before the upgrade stay; new lines are recorded once.
        clock = Clock(T0 + 100)
        batch = [
            make.log(run, "new line", timestamp=clock()),
            *make.completed(make.flow_run(), clock),
        ]
        store.apply(batch)
        store.apply(batch)
        assert [e.message for e in store.read_logs(run.id)] == [
            "written by an older cadenza",
            "new line",
        ]
        # New columns and tables are usable.
        new_run = make.flow_run(entrypoint="flows.py:train")
        store.apply(
            [*make.completed(new_run, clock), ArtifactCreated("a1", "markdown", '"# hi"', "k")]
        )
        found = store.read_flow_run(new_run.id)
        assert found is not None
        assert found.entrypoint == "flows.py:train"
        artifact = store.read_artifact_by_key("k")
        assert artifact is not None
        assert (artifact.id, artifact.data, artifact.version) == ("a1", "# hi", 1)
    finally:
        store.close()


def test_going_down_from_artifacts_keeps_runs(url: str) -> None:
    store = SqlStore(url)
    parent = make.flow_run(entrypoint="flows.py:train")
    clock = Clock()
    store.apply(make.completed(parent, clock) + make.completed(make.task_run(parent), clock))
    store.close()
    command.downgrade(alembic_config(url), "0002")
    assert "artifacts" not in schema_of(url)
    assert "entrypoint" not in [c[0] for c in schema_of(url)["flow_runs"]["columns"]]
    assert raw.scalar(url, "SELECT count(*) FROM task_runs") == 1
    upgrade(url)
    store = SqlStore(url)
    try:
        assert len(store.list_task_runs(parent.id)) == 1
        found = store.read_flow_run(parent.id)
        assert found is not None
        assert found.entrypoint is None
    finally:
        store.close()


def _record_a_run_with_sql(url: str) -> None:
    run_id = "01890000-0000-7000-8000-000000000001"
    with raw.connection(url) as conn:
        conn.execute(
            sa.text("INSERT INTO flows (id, name, created) VALUES (:id, 'old', :t)"),
            {"id": flow_id_for("old"), "t": T0},
        )
        conn.execute(
            sa.text(
                "INSERT INTO flow_runs (id, flow_id, name, created, state_type, state_name,"
                " state_timestamp, run_count, start_time, end_time, history)"
                " VALUES (:id, :flow_id, 'old-run', :created, 'COMPLETED', 'Completed',"
                " :end, 1, :start, :end, :history)"
            ),
            {
                "id": run_id,
                "flow_id": flow_id_for("old"),
                "created": T0,
                "start": T0 + 1,
                "end": T0 + 2,
                "history": '[{"type":"PENDING","name":"Pending","timestamp":1750000000.0},'
                '{"type":"RUNNING","name":"Running","timestamp":1750000001.0},'
                '{"type":"COMPLETED","name":"Completed","timestamp":1750000002.0}]',
            },
        )
        conn.execute(
            sa.text(
                "INSERT INTO logs (flow_run_id, level, name, message, timestamp)"
                " VALUES (:id, 20, 'old', 'written by an older cadenza', :t)"
            ),
            {"id": run_id, "t": T0 + 1},
        )


def test_an_unknown_version_was_written_by_a_newer_cadenza(url: str) -> None:
    SqlStore(url).close()
    raw.execute(url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreSchemaError, match="newer cadenza") as info:
        SqlStore(url)
    assert "'9999'" in str(info.value)
    assert "Upgrade cadenza" in str(info.value)


@pytest.mark.parametrize(
    "statements",
    [
        ["CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)"],
        [
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY)",
            "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('3f1c2a9b7d10')",
        ],
    ],
    ids=["plain", "another-alembic-app"],
)
def test_a_database_of_another_application_is_refused(url: str, statements: list[str]) -> None:
    for sql in statements:
        raw.execute(url, sql)
    with pytest.raises(StoreSchemaError) as info:
        SqlStore(url)
    message = str(info.value)
    assert "not cadenza's" in message
    assert raw.where(url) in message
    assert "CADENZA_HOME" in message
    foreign = statements[0].split()[2]
    assert foreign in message
    assert "flow_runs" not in raw.table_names(url)  # nothing was added to it


def test_tags_of_runs_recorded_before_0004_are_found_by_tag(url: str) -> None:
    upgrade(url, "0003")
    raw.execute(
        url,
        "INSERT INTO flows (id, name, created) VALUES (:id, 'old', :t)",
        [{"id": flow_id_for("old"), "t": T0}],
    )
    raw.execute(
        url,
        "INSERT INTO flow_runs (id, flow_id, name, created, tags, run_count)"
        " VALUES (:id, :flow_id, :name, :t, :tags, 0)",
        [
            {
                "id": f"01890000-0000-7000-8000-00000000000{i}",
                "flow_id": flow_id_for("old"),
                "name": f"r{i}",
                "t": T0,
                "tags": tags,
            }
            for i, tags in enumerate(['["gpu","nightly"]', '["nightly"]', "[]", '["gpu","gpu"]'])
        ],
    )
    upgrade(url)
    store = SqlStore(url)
    try:
        gpu = store.list_flow_runs(FlowRunFilter(tags=["gpu"]))
        assert [r.name for r in gpu] == ["r3", "r0"]
        assert store.count_flow_runs(FlowRunFilter(tags=["gpu", "nightly"])) == 1
        assert store.count_flow_runs(FlowRunFilter(tags=["nightly"])) == 2
        # Runs recorded after the upgrade are found the same way.
        new = make.flow_run("new", tags=["gpu"])
        store.apply(make.completed(new, Clock()))
        assert store.count_flow_runs(FlowRunFilter(tags=["gpu"])) == 3
    finally:
        store.close()
    command.downgrade(alembic_config(url), "0003")
    assert "flow_run_tags" not in schema_of(url)
