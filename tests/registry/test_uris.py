"""Model URIs of every form, registered versions, aliases and stages, through the
fluent functions and the client."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Ridge

import cadenza
from cadenza.exceptions import InvalidModelError, ModelNotFoundError, ModelVersionNotFoundError
from cadenza.registry import uri
from cadenza.registry.client import RegistryClient


def test_uri_forms_parse() -> None:
    assert uri.parse("models:/taxi/3") == uri.ModelsUri("taxi", version=3)
    assert uri.parse("models:/taxi@champion") == uri.ModelsUri("taxi", alias="champion")
    assert uri.parse("models:/taxi/production") == uri.ModelsUri("taxi", stage="Production")
    assert uri.parse("models:/taxi/latest") == uri.ModelsUri("taxi", latest=True)
    assert uri.parse("runs:/abc/model/sub") == uri.RunsUri("abc", "model/sub")
    assert isinstance(uri.parse("/tmp/folder"), uri.LocalUri)
    assert uri.parse("file:///tmp/a%20b").path.as_posix() == "/tmp/a b"  # type: ignore[union-attr]
    for bad, why in [
        ("models:/taxi", "names no version"),
        ("models:/taxi/prod", "neither a version"),
        ("runs:/abc", "names no path"),
        ("s3://bucket/model", "does not read s3"),
        ("", "empty"),
    ]:
        with pytest.raises(InvalidModelError, match=why):
            uri.parse(bad)


def _train(data: Any, log_in_flow: Any, alpha: float, name: str = "taxi") -> Any:
    x, y = data
    return log_in_flow(
        Ridge(alpha=alpha).fit(x, y), input_example=x.head(), registered_model_name=name
    )


def test_every_uri_form_loads_the_version_it_names_now(data: Any, log_in_flow: Any) -> None:
    x, _ = data
    infos = [_train(data, log_in_flow, alpha) for alpha in (0.1, 100.0, 1000.0)]
    assert [i.registered_model_version for i in infos] == [1, 2, 3]
    client = RegistryClient()
    client.set_registered_model_alias("taxi", "champion", 1)
    client.transition_model_version_stage("taxi", 2, "Production")

    def alpha(model_uri: str) -> float:
        return float(cadenza.load_model(model_uri).native.alpha)

    assert alpha("models:/taxi/1") == 0.1
    assert alpha("models:/taxi@champion") == 0.1
    assert alpha("models:/taxi/Production") == 100.0
    assert alpha("models:/taxi/latest") == 1000.0
    assert alpha(infos[2].model_uri) == 1000.0
    client.set_registered_model_alias("taxi", "champion", "3")  # it moves; nothing is cached
    assert alpha("models:/taxi@champion") == 1000.0
    predictions = cadenza.load_model("models:/taxi@champion").predict(x)
    np.testing.assert_allclose(predictions, cadenza.load_model(infos[2].model_uri).predict(x))


def test_registered_versions_keep_the_lineage(data: Any, log_in_flow: Any) -> None:
    info = _train(data, log_in_flow, 1.0)
    version = RegistryClient().get_model_version("taxi", 1)
    assert version.source == info.model_uri
    assert version.run_id == info.run_id
    assert version.flow_run_id == info.flow_run_id
    assert version.signature == info.signature
    assert version.code_version == info.code_version
    assert version.user_id  # the OS user


def test_register_model_from_a_run_uri_and_from_a_version(data: Any, log_in_flow: Any) -> None:
    x, y = data
    info = log_in_flow(Ridge().fit(x, y), name="model")
    first = cadenza.register_model(info.model_uri, "fare", tags={"stage": "dev"})
    assert (first.name, first.version, first.tags) == ("fare", 1, {"stage": "dev"})
    copy = cadenza.register_model("models:/fare/1", "fare-copy")
    assert (copy.version, copy.source, copy.run_id) == (1, info.model_uri, info.run_id)
    assert cadenza.load_model("models:/fare-copy/1").native.alpha == 1.0


def test_misses_name_what_exists(data: Any, log_in_flow: Any) -> None:
    _train(data, log_in_flow, 1.0)
    with pytest.raises(ModelNotFoundError, match="'taxi'"):
        cadenza.load_model("models:/taxy/1")
    with pytest.raises(ModelVersionNotFoundError, match="its versions are 1"):
        cadenza.load_model("models:/taxi/5")
    with pytest.raises(ModelVersionNotFoundError, match="no alias 'champion'"):
        cadenza.load_model("models:/taxi@champion")
    with pytest.raises(ModelVersionNotFoundError, match=r"no version in stage Staging.*None"):
        cadenza.load_model("models:/taxi/Staging")
    with pytest.raises(InvalidModelError, match="no model at 'nothing'"):
        cadenza.load_model("runs:/01890000-0000-7000-8000-000000000000/nothing")


def test_client_search_filters(data: Any, log_in_flow: Any) -> None:
    info = _train(data, log_in_flow, 1.0, name="taxi-duration")
    _train(data, log_in_flow, 1.0, name="fare")
    client = RegistryClient()
    client.set_registered_model_tag("fare", "team", "pricing")
    assert [m.name for m in client.search_registered_models("name LIKE 'TAXI%'")] == [
        "taxi-duration"
    ]
    assert [m.name for m in client.search_registered_models("name = 'fare'")] == ["fare"]
    assert [m.name for m in client.search_registered_models("tags.team = 'pricing'")] == ["fare"]
    assert client.search_registered_models("name = 'none'") == []
    found = client.search_model_versions(f"run_id = '{info.run_id}'")
    assert [(v.name, v.version) for v in found] == [("taxi-duration", 1)]
    assert client.search_model_versions("name='fare' AND current_stage='None'")[0].name == "fare"
    with pytest.raises(InvalidModelError, match="cadenza understands"):
        client.search_registered_models("name > 'a'")


def test_client_stage_history_has_who_and_why(data: Any, log_in_flow: Any) -> None:
    for a in (1.0, 2.0):
        _train(data, log_in_flow, a)
    client = RegistryClient()
    client.transition_model_version_stage("taxi", 1, "Production", comment="first release")
    client.transition_model_version_stage(
        "taxi", 2, "Production", archive_existing_versions=True, user="ana", comment="rmse 4.2"
    )
    assert [v.version for v in client.get_latest_versions("taxi", ["Production"])] == [2]
    assert client.get_model_version("taxi", 1).current_stage == "Archived"
    history = client.get_model_history("taxi")
    assert [(t.version, t.to_value, t.user, t.comment) for t in history] == [
        (1, "Production", history[0].user, "first release"),
        (1, "Archived", "ana", "archived: version 2 moved to Production"),
        (2, "Production", "ana", "rmse 4.2"),
    ]
    assert history[0].user  # the OS user when none is given
