"""The download step against real HTTP servers on 127.0.0.1, and the local-folder source."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from examples.taxi.mirror import Failure

from cadenza import flow
from examples.taxi import (
    DownloadError,
    FlakyMirror,
    MonthFile,
    MonthNotFound,
    TruncatedDownload,
    download_month,
    locate_month,
)
from tests.examples.taxi.conftest import latest_flow_run_id, task_histories

NAME = "green_tripdata_2023-01.parquet"


@flow
def fetch(base_url: str, folder: Path, timeout: float = 10.0) -> MonthFile:
    quick = download_month.with_options(retry_delay_seconds=0.01, retry_jitter_factor=0)
    return quick(2023, 1, base_url, folder, timeout)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


Serve = Callable[..., FlakyMirror]


@pytest.fixture
def serve(months_dir: Path) -> Iterator[Serve]:
    """Start mirrors of ``months_dir`` (or another folder); all stopped after the test."""
    mirrors: list[FlakyMirror] = []

    def start(failures: int, failure: Failure = "status", folder: Path = months_dir) -> FlakyMirror:
        mirrors.append(FlakyMirror(folder, failures=failures, failure=failure).start())
        return mirrors[-1]

    yield start
    for m in mirrors:
        m.stop()


def test_the_download_is_retried_until_the_source_answers(
    serve: Serve, months_dir: Path, tmp_path: Path
) -> None:
    mirror = serve(failures=2)
    file = fetch(mirror.url, tmp_path / "downloads")
    assert mirror.requests[NAME] == 3
    assert file.path == tmp_path / "downloads" / NAME
    assert file.sha256 == _sha256(months_dir / NAME) == _sha256(file.path)
    assert file.size == (months_dir / NAME).stat().st_size
    assert file.origin == f"{mirror.url}/{NAME}"
    history = task_histories(latest_flow_run_id())["download-2023-01"]
    assert history.count("Retrying") == 2
    assert history[-1] == "Completed"
    assert not list((tmp_path / "downloads").glob(".*partial"))


def test_a_source_that_always_fails_fails_clearly_after_the_retries(
    serve: Serve, tmp_path: Path
) -> None:
    mirror = serve(failures=1_000)
    with pytest.raises(DownloadError) as caught:
        fetch(mirror.url, tmp_path / "downloads")
    message = str(caught.value)
    assert f"{mirror.url}/{NAME} answered 503" in message
    assert "try again later, or pass source= a mirror URL or a local folder" in message
    assert caught.value.status == 503
    assert caught.value.transient
    assert mirror.requests[NAME] == 1 + download_month.retries
    history = task_histories(latest_flow_run_id())["download-2023-01"]
    assert history.count("Retrying") == download_month.retries
    assert history[-1] == "Failed"
    assert not (tmp_path / "downloads" / NAME).exists()


def test_a_month_the_source_does_not_have_is_not_retried(serve: Serve, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    mirror = serve(failures=0, folder=empty)
    with pytest.raises(MonthNotFound, match="answered 404 Not Found: the source does not have"):
        fetch(mirror.url, tmp_path / "downloads")
    assert mirror.requests[NAME] == 1


def test_a_cut_off_transfer_is_detected_and_retried(
    serve: Serve, months_dir: Path, tmp_path: Path
) -> None:
    mirror = serve(failures=1, failure="truncate")
    file = fetch(mirror.url, tmp_path / "downloads")
    assert mirror.requests[NAME] == 2
    assert file.sha256 == _sha256(months_dir / NAME)

    always = serve(failures=1_000, failure="truncate")
    with pytest.raises(TruncatedDownload, match="is incomplete"):
        fetch(always.url, tmp_path / "other")
    assert not (tmp_path / "other" / NAME).exists()


def test_a_file_that_is_not_parquet_is_refused(serve: Serve, tmp_path: Path) -> None:
    folder = tmp_path / "html"
    folder.mkdir()
    (folder / NAME).write_text("<html>Sorry, we are down for maintenance</html>")
    mirror = serve(failures=0, folder=folder)
    with pytest.raises(TruncatedDownload, match="not a complete parquet file"):
        fetch(mirror.url, tmp_path / "downloads")


def test_a_source_that_does_not_answer_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        once = download_month.with_options(retries=0)
        with pytest.raises(DownloadError, match=r"did not answer within 0.2 s") as caught:
            once(2023, 1, url, tmp_path, timeout=0.2)
    assert caught.value.transient


def test_a_source_nobody_listens_on_fails_to_connect(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    once = download_month.with_options(retries=0)
    with pytest.raises(DownloadError, match=r"Could not connect to http://127\.0\.0\.1"):
        once(2023, 1, f"http://127.0.0.1:{port}", tmp_path)


def test_a_local_folder_is_read_in_place(months_dir: Path) -> None:
    file = locate_month(2023, 1, months_dir)
    assert file.path == months_dir / NAME
    assert file.sha256 == _sha256(months_dir / NAME)
    assert file.origin == str(months_dir)
    assert file.is_intact()


def test_a_month_missing_from_the_folder_says_what_is_there(
    months_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(MonthNotFound) as caught:
        locate_month(2022, 6, months_dir)
    assert "No green_tripdata_2022-06.parquet in" in str(caught.value)
    assert "green_tripdata_2023-01.parquet, green_tripdata_2023-02.parquet" in str(caught.value)
    with pytest.raises(MonthNotFound, match="does not exist"):
        locate_month(2023, 1, tmp_path / "nowhere")
