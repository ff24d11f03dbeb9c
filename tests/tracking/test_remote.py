"""Tracking against a real server (uvicorn on 127.0.0.1): the fluent functions report
through ``POST /api/events``, files go up and down through the API, and
``TrackingClient`` reads over HTTP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import cadenza
from cadenza import TrackingClient, flow, task
from cadenza.client.http_tracking import HttpArtifactStore, HttpTrackingStore
from cadenza.context import FlowRunContext, TaskRunContext
from cadenza.exceptions import CadenzaError, ObjectNotFound
from cadenza.reporting import reset_reporter
from cadenza.settings import reset_settings
from cadenza.store.sql import SqlStore
from cadenza.tracking.artifacts import (
    ArtifactFile,
    FsspecArtifactStore,
    artifact_uri,
    download_artifacts,
    list_artifacts,
    log_artifact,
)
from cadenza.tracking.errors import ArtifactNotFound, InvalidArtifactPath, InvalidFilter
from tests.server.api.conftest import LiveServer
from tests.tracking.helpers import empty_flow

API_KEY = "tracking-test-key"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    store = SqlStore(f"sqlite:///{tmp_path / 'server' / 'server.db'}")
    live = LiveServer(store, api_key=API_KEY)
    live.app.state.artifact_store = FsspecArtifactStore(tmp_path / "server" / "artifacts")
    live.start()
    yield live
    live.stop()
    store.close()


@pytest.fixture
def remote(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """This process reports to ``server`` (CADENZA_API_URL and CADENZA_API_KEY set)."""
    monkeypatch.setenv("CADENZA_API_URL", server.url)
    monkeypatch.setenv("CADENZA_API_KEY", API_KEY)
    reset_reporter()
    reset_settings()
    yield server
    reset_reporter()
    reset_settings()


def test_fluent_calls_reach_the_server_with_their_files(
    remote: LiveServer, tmp_path: Path, cadenza_home: Path
) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(bytes(range(256)) * 4096)  # 1 MiB, more than one chunk of a stream

    @task
    def train(max_depth: int) -> str:
        ctx = TaskRunContext.get()
        assert ctx is not None
        cadenza.log_params({"max_depth": max_depth})
        for step in range(100):
            cadenza.log_metric("loss", 1 / (step + 1), step=step)
        cadenza.log_metric("rmse", 4.5 + max_depth / 100)
        cadenza.log_metric("nan", math.nan)
        cadenza.set_tag("stage", "tuning")
        cadenza.log_input([{"fare": 1.0}, {"fare": 2.5}], name="taxi", context="training")
        log_artifact(model, "model")
        cadenza.log_dict({"max_depth": max_depth}, "config.json")
        return ctx.task_run.id

    @flow
    def tune() -> tuple[str, list[str]]:
        ctx = FlowRunContext.get()
        assert ctx is not None
        cadenza.set_experiment("remote-tuning")
        cadenza.log_text("two trials", "notes.txt")
        return ctx.flow_run.id, [train(5), train(10)]

    flow_id, trials = tune()
    # Nothing was written locally.
    assert not (cadenza_home / "cadenza.db").exists()
    assert not (cadenza_home / "artifacts").exists()

    server_store = remote.store
    data = server_store.get_run_data(trials[1])
    assert data.params == {"max_depth": "10"}
    assert data.metrics["rmse"] == 4.6
    assert math.isnan(data.metrics["nan"])
    assert data.tags == {"stage": "tuning"}
    assert len(server_store.get_metric_history(trials[0], "loss")) == 100
    assert [d.name for d in server_store.list_datasets(trials[0])] == ["taxi"]

    client = TrackingClient()
    assert isinstance(client.store, HttpTrackingStore)
    experiment = client.get_experiment_by_name("remote-tuning")
    assert experiment is not None
    best = client.search_runs(
        [experiment.experiment_id], "metrics.rmse < 5", order_by=["metrics.rmse ASC"]
    )
    assert [r.info.run_id for r in best] == trials
    assert best[0].data.metrics["rmse"] == 4.55
    assert [m.step for m in client.get_metric_history(trials[0], "loss")][:3] == [0, 1, 2]

    # Files: on the server's storage, listed and downloaded through the API.
    stored = remote.app.state.artifact_store.root
    assert (Path(stored) / trials[0] / "model" / "model.bin").read_bytes() == model.read_bytes()
    assert list_artifacts(trials[0]) == [
        ArtifactFile("config.json", False, 20),
        ArtifactFile("model", True, None),
    ]
    assert list_artifacts(flow_id) == [ArtifactFile("notes.txt", False, 10)]
    local = download_artifacts(trials[0], "model", tmp_path / "down")
    assert (local / "model.bin").read_bytes() == model.read_bytes()
    everything = client.download_artifacts(trials[1], dst_path=tmp_path / "all")
    assert (everything / "config.json").read_text() == '{\n  "max_depth": 10\n}'
    uri = artifact_uri(trials[0], "model/model.bin")
    assert uri == f"{remote.url}/api/runs/{trials[0]}/artifacts/model/model.bin"
    assert (
        httpx.get(uri, headers={"Authorization": f"Bearer {API_KEY}"}).content == model.read_bytes()
    )
    with pytest.raises(ArtifactNotFound):
        download_artifacts(trials[0], "missing.txt", tmp_path / "x")


def test_the_client_writes_reads_and_uploads_over_http(remote: LiveServer, tmp_path: Path) -> None:
    run_id = empty_flow()
    client = TrackingClient()
    client.log_param(run_id, "alpha", 0.5)
    client.log_metric(run_id, "score", 0.9, step=3)
    client.set_tag(run_id, "owner", "ana")
    run = client.get_run(run_id)
    assert (run.data.params, run.data.metrics, run.data.tags) == (
        {"alpha": "0.5"},
        {"score": 0.9},
        {"owner": "ana"},
    )
    assert run.info.kind == "flow"
    report = tmp_path / "report.md"
    report.write_text("# fine")
    client.log_artifact(run_id, report, "reports")
    assert [f.path for f in client.list_artifacts(run_id, "reports")] == ["reports/report.md"]
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    client.log_artifacts(run_id, folder, "plots")
    assert [f.path for f in client.list_artifacts(run_id, "plots/sub")] == ["plots/sub/a.txt"]
    with pytest.raises(ObjectNotFound):
        client.get_run("01890000-0000-7000-8000-00000000dead")
    with pytest.raises(ObjectNotFound):
        client.log_artifact("01890000-0000-7000-8000-00000000dead", report)
    with pytest.raises(InvalidFilter, match="quote it"):
        client.search_runs([run.info.experiment_id or ""], "params.alpha = 0.5")
    with pytest.raises(InvalidArtifactPath, match=r"'\.\.' part"):
        client.list_artifacts(run_id, "../x")


def test_the_server_checks_paths_and_runs_of_uploads(remote: LiveServer) -> None:
    run_id = empty_flow()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    base = f"{remote.url}/api/runs"
    unknown = httpx.put(
        f"{base}/01890000-0000-7000-8000-00000000dead/artifacts/a.txt",
        content=b"x",
        headers=headers,
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "NOT_FOUND"
    climbing = httpx.put(
        f"{base}/{run_id}/artifacts/a/%2E%2E/%2E%2E/b.txt", content=b"x", headers=headers
    )
    assert climbing.status_code == 400
    assert climbing.json()["code"] == "INVALID_ARTIFACT_PATH"
    ok = httpx.put(
        f"{base}/{run_id}/artifacts/page.html",
        content=b"<script>alert(1)</script>",
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"run_id": run_id, "path": "page.html", "size": 25}
    # Served as a download, never as a page of the server.
    got = httpx.get(f"{base}/{run_id}/artifacts/page.html", headers=headers)
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in got.headers["content-security-policy"]
    assert got.headers["x-content-type-options"] == "nosniff"
    folder = httpx.get(f"{base}/{run_id}/artifacts/missing", headers=headers)
    assert folder.status_code == 404
    no_key = httpx.put(f"{base}/{run_id}/artifacts/b.txt", content=b"x")
    assert no_key.status_code == 401


def test_a_wrong_key_is_a_clear_error(server: LiveServer) -> None:
    store = HttpTrackingStore(server.url, "wrong")
    with pytest.raises(CadenzaError, match="requires an API key"):
        store.list_experiments()
    files = HttpArtifactStore(server.url)
    with pytest.raises(CadenzaError, match="requires an API key"):
        files.list("01890000-0000-7000-8000-00000000dead")
