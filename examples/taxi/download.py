"""Getting a month's file: downloaded from the TLC (or a mirror), or found in a folder.

The TLC publishes one parquet file per month at
``https://d37ci6vzurychx.cloudfront.net/trip-data/green_tripdata_YYYY-MM.parquet``.
:func:`download_month` streams it into a local folder with a timeout, checks that the
whole file arrived, and is retried with exponential backoff when the source fails in
a way that may pass (a 5xx or 429 answer, a refused or cut connection, a timeout).
:func:`locate_month` takes the file from a local folder instead.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cadenza import exponential_backoff, get_run_logger, task
from cadenza.cache_policies import INPUTS, TASK_SOURCE
from examples.taxi.errors import DownloadError, MonthNotFound, TruncatedDownload
from examples.taxi.months import file_name, label

TLC_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data"
"""Where the TLC publishes its trip records (the default source)."""

_PARQUET_MAGIC = b"PAR1"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class MonthFile:
    """A month's parquet file on the local disk."""

    year: int
    month: int
    path: Path
    size: int
    sha256: str
    """The digest of the file's bytes: the read step's cache key depends on it."""
    origin: str
    """The URL it was downloaded from, or the folder it was found in."""

    def is_intact(self) -> bool:
        """Whether the file is still there with its size (a cached download points at it)."""
        try:
            return self.path.stat().st_size == self.size
        except OSError:
            return False


def is_url(source: str) -> bool:
    """Whether ``source`` is an HTTP(S) base URL rather than a local folder."""
    return source.startswith(("http://", "https://"))


def month_url(base_url: str, year: int, month: int) -> str:
    """The URL of a month's file under ``base_url``."""
    return f"{base_url.rstrip('/')}/{file_name(year, month)}"


def _worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry failures that may pass: transient download errors, not missing months."""
    exc = state.exception
    return isinstance(exc, DownloadError) and exc.transient


@task(
    retries=4,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.2,
    retry_condition_fn=_worth_retrying,
    cache_policy=INPUTS + TASK_SOURCE - "timeout",
    task_run_name="download-{year}-{month:02d}",
)
def download_month(
    year: int, month: int, base_url: str, folder: Path, timeout: float = 60.0
) -> MonthFile:
    """Download a month's file from ``base_url`` into ``folder``.

    The file is streamed to a temporary name and renamed into place once complete,
    so an interrupted download never leaves a partial file where a complete one is
    expected. ``timeout`` is the longest wait for the connection and for each piece
    of the transfer, in seconds.

    Raises:
        MonthNotFound: the source answered 403 or 404 (not retried).
        TruncatedDownload: fewer bytes arrived than announced, or no parquet file.
        DownloadError: another error answer, a connection failure or a timeout.
    """
    import httpx

    url = month_url(base_url, year, month)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(year, month)
    partial = folder / f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial"
    logger = get_run_logger()
    logger.info("Downloading %s", url)
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise _answer_error(url, response.status_code, response.reason_phrase)
            announced = response.headers.get("Content-Length")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
            received = response.num_bytes_downloaded
        if announced is not None and received != int(announced):
            raise _truncated(url, f"{received:,} of the {int(announced):,} bytes announced")
        size = partial.stat().st_size
        with partial.open("rb") as f:
            head = f.read(4)
            f.seek(max(0, size - 4))
            tail = f.read(4)
        if size < 12 or head != _PARQUET_MAGIC or tail != _PARQUET_MAGIC:
            raise _truncated(url, f"{size:,} bytes that are not a complete parquet file")
        os.replace(partial, path)
    except httpx.TimeoutException as exc:
        raise DownloadError(
            f"{url} did not answer within {timeout:g} s ({type(exc).__name__}). The source "
            "may be slow or unreachable: try again later, raise the timeout, or pass "
            "source= a mirror URL or a local folder.",
            url=url,
            status=None,
            transient=True,
        ) from exc
    except httpx.RemoteProtocolError as exc:
        raise _truncated(url, f"the connection was cut ({exc})") from exc
    except httpx.TransportError as exc:
        raise DownloadError(
            f"Could not connect to {url} ({type(exc).__name__}: {exc}). Check the network "
            "and the source URL, or pass source= a mirror URL or a local folder.",
            url=url,
            status=None,
            transient=True,
        ) from exc
    except httpx.HTTPError as exc:  # too many redirects, an undecodable body...
        raise DownloadError(
            f"The download of {url} failed ({type(exc).__name__}: {exc}). Check the source URL.",
            url=url,
            status=None,
            transient=False,
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    logger.info("Downloaded %s: %s bytes", path.name, f"{size:,}")
    return MonthFile(year, month, path, size, digest.hexdigest(), url)


def _answer_error(url: str, status: int, reason: str) -> Exception:
    name = url.rsplit("/", 1)[-1]
    if status in (403, 404):
        return MonthNotFound(
            f"{url} answered {status} {reason}: the source does not have {name}. "
            "The TLC publishes a month about two months after it ends; check the year "
            "and month, or the source URL."
        )
    transient = status >= 500 or status in (408, 425, 429)
    advice = (
        "The source may be down or limiting requests: try again later, or pass source= "
        "a mirror URL or a local folder."
        if transient
        else "Check the source URL."
    )
    return DownloadError(
        f"{url} answered {status} {reason}. {advice}", url=url, status=status, transient=transient
    )


def _truncated(url: str, what: str) -> TruncatedDownload:
    return TruncatedDownload(
        f"The download of {url} is incomplete: {what}. Trying again usually helps; if it "
        "keeps happening, the file at the source may be damaged.",
        url=url,
        status=200,
        transient=True,
    )


@task(task_run_name="locate-{year}-{month:02d}")
def locate_month(year: int, month: int, folder: Path) -> MonthFile:
    """The month's file in a local folder (read in place, not copied).

    Raises:
        MonthNotFound: the folder does not exist or does not hold the month's file.
    """
    path = folder / file_name(year, month)
    if not folder.is_dir():
        raise MonthNotFound(
            f"The source folder {folder} does not exist. Pass source= a folder holding "
            f"{path.name}, or an http(s) URL to download from."
        )
    if not path.is_file():
        held = sorted(p.name for p in folder.glob("green_tripdata_*.parquet"))
        what = f"it holds {', '.join(held)}" if held else "it holds no green_tripdata files"
        raise MonthNotFound(
            f"No {path.name} in {folder} ({what}). Put the file for {label(year, month)} "
            "there, or pass source= a URL to download it from."
        )
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return MonthFile(year, month, path, path.stat().st_size, digest.hexdigest(), str(folder))
