"""What can go wrong with a month of trip data, each with a message that says what to do."""

from __future__ import annotations


class TaxiDataError(Exception):
    """A month of trip records could not be fetched or used."""


class DownloadError(TaxiDataError, ConnectionError):
    """A month's file could not be downloaded.

    Attributes:
        url: what was requested.
        status: the HTTP status the source answered, or None when it did not answer.
        transient: whether trying again later can help (an error of the server or of
            the connection, a timeout, a cut-off transfer); the download task
            retries only those.
    """

    def __init__(self, message: str, *, url: str, status: int | None, transient: bool) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.transient = transient


class TruncatedDownload(DownloadError):
    """The transfer ended before the whole file arrived, or what arrived is no parquet file."""


class MonthNotFound(TaxiDataError, FileNotFoundError):
    """The source does not have the month: not published yet, or not in the folder."""


class InvalidMonthData(TaxiDataError, ValueError):
    """A month's file is not a parquet file of TLC green-taxi trips."""


class NoUsableRows(InvalidMonthData):
    """Every row of a month's file is malformed or outside the durations trained on."""
