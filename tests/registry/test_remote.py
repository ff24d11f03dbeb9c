"""log_model, register_model, aliases, load_model and the CLI against a real cadenza
server (a subprocess on 127.0.0.1 with an API key and a database of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from click.testing import CliRunner

import cadenza
from cadenza.exceptions import ModelNotFoundError, ModelVersionNotFoundError
from cadenza.registry.client import RegistryClient
from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from cadenza.store.sql import SqlStore
from tests.reporting.live_server import LiveServer

KEY = "registry-remote-key"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path / "server", api_key=KEY)
    srv.start()
    monkeypatch.setenv("CADENZA_API_URL", srv.url)
    monkeypatch.setenv("CADENZA_API_KEY", KEY)
    reset_reporter()
    reset_settings()
    yield srv
    reset_reporter()
    srv.stop()


@pytest.mark.slow
def test_log_register_alias_and_load_through_the_server(
    server: LiveServer, data: Any, log_in_flow: Any, cadenza_home: Path
) -> None:
    x, y = data
    regressor = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(x, y)
    info = log_in_flow(regressor, name="xgb", input_example=x.head(), registered_model_name="taxi")
    assert info.registered_model_version == 1
    again = log_in_flow(regressor, name="xgb", registered_model_name="taxi")
    assert again.registered_model_version == 2
    client = RegistryClient()
    client.set_registered_model_alias("taxi", "champion", 1, comment="first")
    client.transition_model_version_stage("taxi", 2, "Staging")

    loaded = cadenza.load_model("models:/taxi@champion")
    assert isinstance(loaded.native, xgb.XGBRegressor)
    np.testing.assert_allclose(loaded.predict(x), regressor.predict(x))
    assert loaded.metadata.run_id == info.run_id
    assert cadenza.load_model("models:/taxi/Staging").metadata.run_id == again.run_id
    with pytest.raises(ModelNotFoundError, match="'taxi'"):
        cadenza.load_model("models:/fare/1")
    with pytest.raises(ModelVersionNotFoundError, match="its versions are 1-2"):
        client.get_model_version("taxi", 3)

    # Everything is on the server: its database and its artifact store.
    assert not (cadenza_home / "cadenza.db").exists()
    store = SqlStore(f"sqlite:///{server.db}")
    try:
        version = store.get_model_version("taxi", 1)
        assert (version.run_id, version.flow_run_id) == (info.run_id, info.flow_run_id)
        assert version.signature == info.signature
        assert version.user_id
        assert [m.artifact_path for m in store.list_logged_models(info.flow_run_id)] == ["xgb"]
        assert store.get_model_version_by_alias("taxi", "champion").version == 1
        assert store.read_flow_run(info.flow_run_id) is not None
    finally:
        store.close()
    saved = list((server.root / "home").rglob("MLmodel"))
    assert len(saved) == 2
    assert json.loads(saved[0].read_text())["flavors"]["xgboost"]["data"] == "model.ubj"

    from cadenza.cli.main import cli

    listed = CliRunner().invoke(cli, ["models", "ls", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["aliases"] == {"champion": 1}
    shown = CliRunner().invoke(cli, ["models", "show", "taxi"], catch_exceptions=False)
    assert "@champion new -> v1" in shown.output


@pytest.mark.slow
def test_a_wrong_key_is_a_clear_error(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADENZA_API_KEY", "wrong")
    reset_settings()
    from cadenza.exceptions import StoreError

    with pytest.raises(StoreError, match="API key"):
        RegistryClient().search_registered_models()
