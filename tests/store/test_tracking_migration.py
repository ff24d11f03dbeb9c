"""Schema 0005 (tracking) on a database of 0004 that has runs."""

from __future__ import annotations

import pytest
from alembic import command

from cadenza.events import MetricLogged, ParamsLogged
from cadenza.store.migrate import alembic_config, upgrade
from cadenza.store.schema import SCHEMA_VERSION
from cadenza.store.sql import SqlStore, flow_id_for
from cadenza.store.tracking_queries import experiment_id_for
from tests.store import make, raw
from tests.store.backends import BACKENDS, Backend
from tests.store.make import T0, Clock


@pytest.mark.parametrize("backend", BACKENDS, ids=str)
def test_flow_runs_of_0004_join_the_experiment_of_their_flow(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    url = backend.fresh_url(request)
    upgrade(url, "0004")
    raw.execute(
        url,
        "INSERT INTO flows (id, name, created) VALUES (:id, :name, :t)",
        [{"id": flow_id_for(name), "name": name, "t": T0} for name in ("train", "etl")],
    )
    raw.execute(
        url,
        "INSERT INTO flow_runs (id, flow_id, name, created, run_count, state_type)"
        " VALUES (:id, :flow_id, :name, :t, 0, 'COMPLETED')",
        [
            {
                "id": f"01890000-0000-7000-8000-00000000000{i}",
                "flow_id": flow_id_for(name),
                "name": f"r{i}",
                "t": T0 + i,
            }
            for i, name in enumerate(["train", "train", "etl"])
        ],
    )
    raw.execute(
        url,
        "INSERT INTO task_runs (id, flow_run_id, name, task_key, created)"
        " VALUES ('01890000-0000-7000-8000-0000000000t0',"
        " '01890000-0000-7000-8000-000000000000', 'fit-0', 'fit', :t)",
        [{"t": T0}],
    )
    assert upgrade(url, "0005") == ("0004", "0005")
    assert upgrade(url) == ("0005", SCHEMA_VERSION)  # and the revisions after it
    store = SqlStore(url)
    try:
        found = {e.name: e for e in store.list_experiments()}
        assert sorted(found) == ["etl", "train"]
        assert found["train"].experiment_id == experiment_id_for("train")
        assert (found["train"].run_count, found["etl"].run_count) == (2, 1)
        runs = store.search_runs([found["train"].experiment_id])
        assert [r.info.run_name for r in runs] == ["r1", "r0"]
        # A task run of an old flow run joins that flow run's experiment when it logs.
        store.apply([MetricLogged("01890000-0000-7000-8000-0000000000t0", "rmse", 3.0, T0, 0)])
        run = store.get_run("01890000-0000-7000-8000-0000000000t0")
        assert run is not None
        assert run.info.experiment_id == experiment_id_for("train")
        assert run.data.metrics == {"rmse": 3.0}
        # New runs are tracked as usual.
        new = make.flow_run("etl")
        store.apply([*make.completed(new, Clock()), ParamsLogged(new.id, {"a": "1"})])
        assert store.get_run_data(new.id).params == {"a": "1"}
        assert store.get_experiment_by_name("etl").run_count == 2  # type: ignore[union-attr]
    finally:
        store.close()
    command.downgrade(alembic_config(url), "0004")
    assert "experiments" not in raw.table_names(url)
    assert raw.scalar(url, "SELECT count(*) FROM flow_runs") == 4
