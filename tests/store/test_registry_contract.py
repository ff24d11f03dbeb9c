"""The written contract of :class:`~cadenza.store.registry_base.RegistryStore`, on the SQL
store and on the HTTP store against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cadenza.exceptions import (
    InvalidModelError,
    ModelAlreadyExistsError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
)
from cadenza.registry.entities import LoggedModel
from cadenza.store.registry_base import RegistryStore
from tests.store.registry_backends import REGISTRY_BACKENDS, open_registry

RUN = "01890000-0000-7000-8000-00000000000a"
FLOW_RUN = "01890000-0000-7000-8000-00000000000b"


@pytest.fixture(params=REGISTRY_BACKENDS)
def registry(request: pytest.FixtureRequest) -> Iterator[RegistryStore]:
    with open_registry(request.param, request) as store:
        yield store


def make(registry: RegistryStore, name: str = "taxi", versions: int = 0) -> None:
    registry.create_registered_model(name, description="minutes per trip", tags={"team": "a"})
    for i in range(versions):
        registry.create_model_version(name, f"runs:/{RUN}/model{i}", run_id=RUN)


# -- misses --------------------------------------------------------------------------------
def test_misses_raise_errors_that_name_what_exists(registry: RegistryStore) -> None:
    with pytest.raises(ModelNotFoundError, match="no model is registered yet"):
        registry.get_registered_model("taxi")
    make(registry, "taxi", versions=3)
    make(registry, "fare")
    with pytest.raises(ModelNotFoundError, match=r"'fare', 'taxi'"):
        registry.get_registered_model("taxy")
    with pytest.raises(ModelVersionNotFoundError, match="its versions are 1-3"):
        registry.get_model_version("taxi", 7)
    with pytest.raises(ModelVersionNotFoundError, match="it has no versions"):
        registry.get_model_version("fare", 1)
    with pytest.raises(ModelNotFoundError):
        registry.get_model_version("nope", 1)
    registry.set_registered_model_alias("taxi", "champion", 2)
    with pytest.raises(ModelVersionNotFoundError, match=r"champion \(version 2\)"):
        registry.get_model_version_by_alias("taxi", "challenger")
    with pytest.raises(ModelVersionNotFoundError, match="no aliases"):
        registry.delete_registered_model_alias("fare", "champion")
    for call in (
        lambda: registry.update_registered_model("nope", description="x"),
        lambda: registry.delete_registered_model("nope"),
        lambda: registry.set_registered_model_tag("nope", "k", "v"),
        lambda: registry.create_model_version("nope", "runs:/x/model"),
        lambda: registry.get_latest_versions("nope"),
        lambda: registry.list_transitions("nope"),
        lambda: registry.transition_model_version_stage("nope", 1, "Staging"),
    ):
        with pytest.raises(ModelNotFoundError):
            call()
    assert registry.search_registered_models(name_like="zzz%") == []
    assert registry.search_model_versions(name="nope") == []
    assert registry.list_logged_models(RUN) == []


def test_models_are_created_once_with_valid_names(registry: RegistryStore) -> None:
    created = registry.create_registered_model("taxi-duration", description="d", tags={"k": "v"})
    assert created.name == "taxi-duration"
    assert created.description == "d"
    assert created.tags == {"k": "v"}
    assert created.latest_versions == []
    assert created.latest_version is None
    assert created.created > 0
    with pytest.raises(ModelAlreadyExistsError, match="exists already"):
        registry.create_registered_model("taxi-duration")
    for bad in ("", "a/b", "a@b", "models:x", " padded", "x" * 256):
        with pytest.raises(InvalidModelError):
            registry.create_registered_model(bad)


def test_versions_count_from_one_and_are_never_reused(registry: RegistryStore) -> None:
    make(registry)
    first = registry.create_model_version(
        "taxi",
        f"runs:/{RUN}/model",
        run_id=RUN,
        flow_run_id=FLOW_RUN,
        description="first",
        tags={"data": "2024-01"},
        code_version="abc123",
        signature={"inputs": [{"name": "x", "type": "double"}], "outputs": None},
        user="ana",
    )
    assert (first.version, first.current_stage, first.status) == (1, "None", "READY")
    assert first.tags == {"data": "2024-01"}
    assert first.signature == {"inputs": [{"name": "x", "type": "double"}], "outputs": None}
    assert (first.run_id, first.flow_run_id, first.code_version) == (RUN, FLOW_RUN, "abc123")
    assert first.user_id == "ana"
    assert first.model_uri == "models:/taxi/1"
    assert first.creation_timestamp == int(first.created * 1000)  # MLflow's milliseconds
    assert registry.create_model_version("taxi", "runs:/r/m").version == 2
    assert registry.create_model_version("taxi", "runs:/r/m").version == 3
    registry.delete_model_version("taxi", 3)
    assert registry.create_model_version("taxi", "runs:/r/m").version == 4
    assert registry.get_registered_model("taxi").latest_version == 4
    assert [v.version for v in registry.search_model_versions(name="taxi")] == [4, 2, 1]
    assert [v.version for v in registry.search_model_versions(run_id=RUN)] == [1]
    assert [v.version for v in registry.search_model_versions(flow_run_id=FLOW_RUN)] == [1]
    with pytest.raises(InvalidModelError):
        registry.create_model_version("taxi", " ")


def test_descriptions_and_tags(registry: RegistryStore) -> None:
    make(registry, versions=1)
    assert registry.update_registered_model("taxi", description="new").description == "new"
    registry.set_registered_model_tag("taxi", "owner", "ana")
    registry.set_registered_model_tag("taxi", "owner", "bo")
    registry.delete_registered_model_tag("taxi", "team")
    registry.delete_registered_model_tag("taxi", "absent")
    assert registry.get_registered_model("taxi").tags == {"owner": "bo"}
    assert registry.update_model_version("taxi", 1, description="v1").description == "v1"
    registry.set_model_version_tag("taxi", 1, "validated", "yes")
    registry.set_model_version_tag("taxi", 1, "a/b.c", "slash")
    assert registry.get_model_version("taxi", 1).tags == {"a/b.c": "slash", "validated": "yes"}
    registry.delete_model_version_tag("taxi", 1, "a/b.c")
    assert registry.get_model_version("taxi", 1).tags == {"validated": "yes"}
    with pytest.raises(ModelVersionNotFoundError):
        registry.set_model_version_tag("taxi", 9, "k", "v")
    with pytest.raises(InvalidModelError):
        registry.set_registered_model_tag("taxi", "", "v")


def test_search_by_name_pattern_and_tags_with_pages(registry: RegistryStore) -> None:
    for name in ("taxi-duration", "Taxi-fare", "weather", "tip"):
        make(registry, name)
    registry.set_registered_model_tag("weather", "team", "b")
    names = [m.name for m in registry.search_registered_models(name_like="taxi%")]
    assert names == ["Taxi-fare", "taxi-duration"]
    assert [m.name for m in registry.search_registered_models(tags={"team": "b"})] == ["weather"]
    page1 = registry.search_registered_models(limit=2)
    page2 = registry.search_registered_models(limit=2, after_name=page1[-1].name)
    assert [m.name for m in page1 + page2] == ["Taxi-fare", "taxi-duration", "tip", "weather"]


def test_aliases_move_and_are_recorded(registry: RegistryStore) -> None:
    make(registry, versions=3)
    registry.set_registered_model_alias("taxi", "champion", 1, user="ana", comment="first")
    registry.set_registered_model_alias("taxi", "champion", 1, user="ana")  # no move
    registry.set_registered_model_alias("taxi", "challenger", 3, user="bo")
    registry.set_registered_model_alias("taxi", "champion", 2, user="bo", comment="better rmse")
    assert registry.get_model_version_by_alias("taxi", "champion").version == 2
    assert registry.get_registered_model("taxi").aliases == {"challenger": 3, "champion": 2}
    assert registry.get_model_version("taxi", 2).aliases == ["champion"]
    assert registry.get_model_version("taxi", 1).aliases == []
    registry.delete_registered_model_alias("taxi", "challenger", user="cy", comment="dropped")
    history = registry.list_transitions("taxi")
    assert [(t.kind, t.alias, t.from_value, t.to_value, t.user, t.comment) for t in history] == [
        ("alias", "champion", None, "1", "ana", "first"),
        ("alias", "challenger", None, "3", "bo", None),
        ("alias", "champion", "1", "2", "bo", "better rmse"),
        ("alias", "challenger", "3", None, "cy", "dropped"),
    ]
    assert [t.version for t in registry.list_transitions("taxi", version=2)] == [2]
    registry.delete_model_version("taxi", 2)  # its alias goes with it; its history stays
    assert registry.get_registered_model("taxi").aliases == {}
    assert len(registry.list_transitions("taxi")) == 4
    for bad in ("latest", "v2", "2x", "has space", ""):
        with pytest.raises(InvalidModelError):
            registry.set_registered_model_alias("taxi", bad, 1)
    with pytest.raises(ModelVersionNotFoundError):
        registry.set_registered_model_alias("taxi", "champion", 2)


def test_stages_with_archive_existing_and_history(registry: RegistryStore) -> None:
    make(registry, versions=3)
    assert registry.transition_model_version_stage("taxi", 1, "production").current_stage == (
        "Production"
    )
    registry.transition_model_version_stage("taxi", 2, "Production", user="ana")
    assert {v.version: v.current_stage for v in registry.search_model_versions(name="taxi")} == {
        1: "Production",
        2: "Production",
        3: "None",
    }
    moved = registry.transition_model_version_stage(
        "taxi", 3, "Production", archive_existing_versions=True, user="bo", comment="rmse 4.1"
    )
    assert moved.current_stage == "Production"
    stages = {v.version: v.current_stage for v in registry.search_model_versions(name="taxi")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    registry.transition_model_version_stage("taxi", 3, "Production", user="bo")  # no change
    registry.transition_model_version_stage("taxi", 2, "Staging")
    latest = registry.get_latest_versions("taxi")
    assert [(v.current_stage, v.version) for v in latest] == [
        ("Staging", 2),
        ("Production", 3),
        ("Archived", 1),
    ]
    assert [v.version for v in registry.get_latest_versions("taxi", ["Production"])] == [3]
    assert registry.get_latest_versions("taxi", ["None"]) == []
    model = registry.get_registered_model("taxi")
    assert [v.version for v in model.latest_versions] == [2, 3, 1]
    history = [
        (t.version, t.from_value, t.to_value, t.user, t.comment)
        for t in registry.list_transitions("taxi")
    ]
    assert history == [
        (1, "None", "Production", None, None),
        (2, "None", "Production", "ana", None),
        (1, "Production", "Archived", "bo", "archived: version 3 moved to Production"),
        (2, "Production", "Archived", "bo", "archived: version 3 moved to Production"),
        (3, "None", "Production", "bo", "rmse 4.1"),
        (2, "Archived", "Staging", None, None),
    ]
    assert registry.list_transitions("taxi", limit=2)[-1].to_value == "Staging"
    with pytest.raises(InvalidModelError, match="the stages are"):
        registry.transition_model_version_stage("taxi", 1, "Prod")
    with pytest.raises(InvalidModelError, match="archive_existing_versions"):
        registry.transition_model_version_stage(
            "taxi", 1, "Archived", archive_existing_versions=True
        )
    with pytest.raises(ModelVersionNotFoundError):
        registry.transition_model_version_stage("taxi", 9, "Staging")


def test_deleting_a_model_removes_everything_of_it(registry: RegistryStore) -> None:
    make(registry, versions=2)
    make(registry, "other", versions=1)
    registry.set_registered_model_alias("taxi", "champion", 1)
    registry.set_model_version_tag("taxi", 1, "k", "v")
    registry.delete_registered_model("taxi")
    with pytest.raises(ModelNotFoundError):
        registry.get_registered_model("taxi")
    assert registry.search_model_versions(name="taxi") == []
    make(registry, "taxi", versions=1)  # a new model of that name starts afresh
    fresh = registry.get_model_version("taxi", 1)
    assert fresh.tags == {}
    assert fresh.aliases == []
    assert registry.list_transitions("taxi") == []
    assert registry.get_model_version("other", 1).version == 1


def test_logged_models_of_runs(registry: RegistryStore) -> None:
    task_run = "01890000-0000-7000-8000-00000000000c"
    registry.record_logged_model(
        LoggedModel(
            run_id=FLOW_RUN,
            artifact_path="model",
            flow_run_id=FLOW_RUN,
            flavors=["python_function", "sklearn"],
            signature={"inputs": [{"name": "x", "type": "long"}], "outputs": None},
            requirements=["scikit-learn==1.5.0"],
            code_version="abc",
            created=100.0,
        )
    )
    registry.record_logged_model(
        LoggedModel(run_id=task_run, artifact_path="xgb", flow_run_id=FLOW_RUN, created=200.0)
    )
    registry.record_logged_model(
        LoggedModel(run_id=task_run, artifact_path="xgb", flow_run_id=FLOW_RUN, created=300.0)
    )
    of_flow = registry.list_logged_models(FLOW_RUN)
    assert [(m.run_id, m.artifact_path) for m in of_flow] == [
        (FLOW_RUN, "model"),
        (task_run, "xgb"),
    ]
    assert of_flow[0].flavors == ["python_function", "sklearn"]
    assert of_flow[0].signature == {"inputs": [{"name": "x", "type": "long"}], "outputs": None}
    assert of_flow[0].requirements == ["scikit-learn==1.5.0"]
    assert of_flow[0].model_uri == f"runs:/{FLOW_RUN}/model"
    assert of_flow[1].created == 300.0
    assert [m.artifact_path for m in registry.list_logged_models(task_run)] == ["xgb"]
