"""The artifact store: files logged by runs, on a local folder, file:// and memory://."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadenza import flow, task
from cadenza.settings import temporary_settings
from cadenza.tracking.artifacts import (
    ArtifactFile,
    FsspecArtifactStore,
    artifact_uri,
    download_artifacts,
    list_artifacts,
    log_artifact,
    log_artifacts,
    validate_path,
)
from cadenza.tracking.errors import ArtifactNotFound, InvalidArtifactPath, NoActiveRun
from cadenza.utilities.ids import uuid7


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A local folder: model.pkl, report.txt and sub/deep/notes.md."""
    root = tmp_path / "local"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "model.pkl").write_bytes(b"\x00\x01binary")
    (root / "report.txt").write_text("rmse 4.2\n")
    (root / "sub" / "deep" / "notes.md").write_text("# notes")
    return root


@pytest.fixture(params=["folder", "file-url", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "folder":
        return str(tmp_path / "artifacts")
    if request.param == "file-url":
        return "file://" + str(tmp_path / "artifacts-url")
    return f"memory://artifacts-{uuid7()}"


def test_files_and_folders_are_stored_listed_and_downloaded(
    root: str, files: Path, tmp_path: Path
) -> None:
    run = uuid7()
    with temporary_settings(artifact_root=root):
        log_artifact(files / "model.pkl", "model", run_id=uuid7())
        assert list_artifacts(run) == []  # another run's file
        log_artifact(files / "report.txt", run_id=run)
        log_artifacts(files, "all", run_id=run)
        assert list_artifacts(run) == [
            ArtifactFile("all", True, None),
            ArtifactFile("report.txt", False, 9),
        ]
        assert list_artifacts(run, "all") == [
            ArtifactFile("all/model.pkl", False, 8),
            ArtifactFile("all/report.txt", False, 9),
            ArtifactFile("all/sub", True, None),
        ]
        assert list_artifacts(run, "all/sub/deep/") == [
            ArtifactFile("all/sub/deep/notes.md", False, 7)
        ]
        assert list_artifacts(run, "report.txt") == []
        assert list_artifacts(run, "missing") == []

        one = download_artifacts(run, "all/model.pkl", tmp_path / "out1")
        assert one == tmp_path / "out1" / "model.pkl"
        assert one.read_bytes() == b"\x00\x01binary"
        folder = download_artifacts(run, "all/sub", tmp_path / "out2")
        assert folder == tmp_path / "out2" / "sub"
        assert (folder / "deep" / "notes.md").read_text() == "# notes"
        everything = download_artifacts(run)
        assert sorted(p.relative_to(everything).as_posix() for p in everything.rglob("*.*")) == [
            "all/model.pkl",
            "all/report.txt",
            "all/sub/deep/notes.md",
            "report.txt",
        ]
        with pytest.raises(ArtifactNotFound, match="no artifact at 'nope'"):
            download_artifacts(run, "nope")


def test_a_file_logged_again_replaces_the_previous_one(root: str, tmp_path: Path) -> None:
    run = uuid7()
    src = tmp_path / "metrics.json"
    with temporary_settings(artifact_root=root):
        src.write_text('{"rmse": 5}')
        log_artifact(src, run_id=run)
        src.write_text('{"rmse": 4}')
        log_artifact(src, run_id=run)
        assert download_artifacts(run, "metrics.json", tmp_path / "o").read_text() == '{"rmse": 4}'
        assert list_artifacts(run) == [ArtifactFile("metrics.json", False, 11)]


def test_the_default_root_is_in_cadenza_home(cadenza_home: Path, files: Path) -> None:
    run = uuid7()
    log_artifact(files / "report.txt", "reports", run_id=run)
    stored = cadenza_home / "artifacts" / run / "reports" / "report.txt"
    assert stored.read_text() == "rmse 4.2\n"
    assert artifact_uri(run, "reports/report.txt") == str(stored)
    assert artifact_uri(run) == str(cadenza_home / "artifacts" / run)


def test_uri_of_a_url_root(tmp_path: Path) -> None:
    with temporary_settings(artifact_root="memory://bucket/prefix/"):
        assert artifact_uri("r1", "model") == "memory://bucket/prefix/r1/model"


def test_inside_flows_and_tasks_files_go_to_the_current_run(
    cadenza_home: Path, files: Path
) -> None:
    seen: dict[str, str] = {}

    @task
    def train() -> str:
        log_artifact(files / "model.pkl", "model")
        seen["task_uri"] = artifact_uri(path="model")
        from cadenza.context import TaskRunContext

        ctx = TaskRunContext.get()
        assert ctx is not None
        return ctx.task_run.id

    @flow
    def pipeline() -> str:
        log_artifacts(files / "sub")
        from cadenza.context import FlowRunContext

        ctx = FlowRunContext.get()
        assert ctx is not None
        seen["flow"] = ctx.flow_run.id
        return train()

    task_run_id = pipeline()
    flow_run_id = seen["flow"]
    assert list_artifacts(task_run_id, "model") == [ArtifactFile("model/model.pkl", False, 8)]
    assert list_artifacts(flow_run_id) == [ArtifactFile("deep", True, None)]
    assert seen["task_uri"] == str(cadenza_home / "artifacts" / task_run_id / "model")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../escape", "'..' part"),
        ("a/../../b", "'..' part"),
        ("/etc", "is absolute"),
        ("C:/Windows", "is absolute"),
        ("a\\b", "backslash"),
        ("a\x00b", "NUL"),
    ],
)
def test_bad_artifact_paths_are_refused_with_what_to_give(
    path: str, problem: str, files: Path
) -> None:
    with pytest.raises(InvalidArtifactPath, match=problem) as info:
        log_artifact(files / "report.txt", path, run_id=uuid7())
    assert "relative to the run's artifacts" in str(info.value)
    with pytest.raises(InvalidArtifactPath, match=problem):
        list_artifacts(uuid7(), path)
    with pytest.raises(InvalidArtifactPath, match=problem):
        download_artifacts(uuid7(), path)


def test_paths_are_normalized() -> None:
    assert validate_path("./a//b/") == "a/b"
    assert validate_path(None) == ""
    assert validate_path(Path("x/y")) == "x/y"
    with pytest.raises(InvalidArtifactPath, match="must be a str"):
        validate_path(3)  # type: ignore[arg-type]


def test_bad_run_ids_and_local_paths(files: Path) -> None:
    with pytest.raises(InvalidArtifactPath, match="is not a run id"):
        list_artifacts("../../etc")
    with pytest.raises(InvalidArtifactPath, match="use log_artifacts for folders"):
        log_artifact(files, run_id=uuid7())
    with pytest.raises(InvalidArtifactPath, match="is no file"):
        log_artifact(files / "missing.txt", run_id=uuid7())
    with pytest.raises(InvalidArtifactPath, match="is not a folder"):
        log_artifacts(files / "report.txt", run_id=uuid7())


def test_outside_a_run_without_run_id_the_error_says_what_to_do(files: Path) -> None:
    with pytest.raises(NoActiveRun, match=r"inside a function decorated with @flow or @task"):
        log_artifact(files / "report.txt")
    with pytest.raises(NoActiveRun, match=r"TrackingClient\(\)\.log_artifacts\(run_id"):
        log_artifacts(files)
    with pytest.raises(NoActiveRun):
        artifact_uri()


def test_a_file_cannot_replace_a_folder(tmp_path: Path, files: Path) -> None:
    store = FsspecArtifactStore(tmp_path / "store")
    run = uuid7()
    with open(files / "report.txt", "rb") as f:
        store.upload(run, "a/b.txt", f)
    with open(files / "report.txt", "rb") as f, pytest.raises(InvalidArtifactPath, match="folder"):
        store.upload(run, "a", f)
    assert store.stat(run, "a") == ArtifactFile("a", True, None)
    assert store.stat(run, "a/b.txt") == ArtifactFile("a/b.txt", False, 9)
    assert store.stat(run, "zz") is None
    with pytest.raises(ArtifactNotFound):
        store.open(run, "a")
