"""The flow: a month of green-taxi trips in, a trip-duration model and its RMSE out.

    download (or locate) both months ─▶ read and validate ─▶ features ─▶ tuning trials
    ─▶ final model, early-stopped on the next month ─▶ evaluation ─▶ markdown report

Downloads, reads and features are cached on their inputs and their task's source code
(results persisted in ``CADENZA_HOME/results``): a second run with the same inputs
shows them ``Cached`` and goes straight to training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from cadenza import create_markdown_artifact, exponential_backoff, flow, unmapped
from cadenza.context import FlowRunContext
from cadenza.settings import get_settings
from examples.taxi.download import TLC_URL, MonthFile, download_month, is_url, locate_month
from examples.taxi.features import build_features
from examples.taxi.months import check_month, next_month
from examples.taxi.report import REPORT_KEY, render_report
from examples.taxi.training import SEED, DurationModel, evaluate, train_model
from examples.taxi.tuning import TrialResult, tune
from examples.taxi.validate import DataQuality, read_month


def default_download_dir() -> Path:
    """Where downloaded months are kept: ``CADENZA_HOME/taxi/downloads``."""
    return get_settings().home / "taxi" / "downloads"


@dataclass
class TrainingResult:
    """What a training run produced."""

    rmse: float
    """RMSE in minutes of the model on the validation month."""
    model: DurationModel
    """Predicts durations in minutes from a DataFrame of raw trips."""
    params: dict[str, Any]
    """The parameters of the best trial, used for the final model."""
    trials: list[TrialResult]
    train_month: str
    valid_month: str
    quality: dict[str, DataQuality] = field(default_factory=dict)
    """What reading each month kept and dropped, by month (``2023-01``)."""
    flow_run_id: str = ""
    report: str = ""
    """The markdown report, also recorded as the artifact ``taxi-duration-model``."""


def fetch_months(
    months: list[tuple[int, int]], source: str, folder: Path, retry_delay: float
) -> list[MonthFile]:
    """The files of ``months``: downloaded concurrently from a URL, or found in a folder."""
    years, numbers = [y for y, _ in months], [m for _, m in months]
    if not is_url(source):
        return locate_month.map(years, numbers, unmapped(Path(source).expanduser())).result()
    download = download_month.with_options(
        retry_delay_seconds=exponential_backoff(backoff_factor=retry_delay)
    )
    files = download.map(years, numbers, unmapped(source), unmapped(folder)).result()
    # A cached download whose file was removed since: fetch that one again.
    redo = download.with_options(refresh_cache=True)
    return [f if f.is_intact() else redo(f.year, f.month, source, folder) for f in files]


@flow(name="train-duration-model", flow_run_name="taxi-{year}-{month:02d}")
def train_duration_model(
    year: Annotated[int, Field(ge=2013)] = 2023,
    month: Annotated[int, Field(ge=1, le=12)] = 1,
    trials: Annotated[int, Field(ge=1)] = 10,
    source: str | Path = TLC_URL,
    data_dir: Path | None = None,
    parallel: Annotated[int, Field(ge=1)] = 2,
    retry_delay: Annotated[float, Field(ge=0)] = 2.0,
    seed: int = SEED,
) -> TrainingResult:
    """Train a model of trip duration on one month, validated on the next.

    Args:
        year: the year of the training month.
        month: the training month, 1 to 12; the validation month is the next one
            (January of the next year after December).
        trials: how many hyperparameter trials to run.
        source: the base URL of the monthly files (the TLC's by default, or a
            mirror's), or a local folder holding them.
        data_dir: where downloads are kept (default ``CADENZA_HOME/taxi/downloads``).
        parallel: how many trials train at once.
        retry_delay: the first wait before retrying a failed download, in seconds;
            it doubles with each retry.
        seed: the seed of the search and of XGBoost.
    """
    check_month(year, month)
    months = [(year, month), next_month(year, month)]
    folder = data_dir.expanduser() if data_dir is not None else default_download_dir()
    files = fetch_months(months, str(source), folder, retry_delay)
    train, valid = read_month.map(files).result()
    features = build_features(train, valid)
    trial_results = tune(features, trials, parallel, seed)
    best = min(trial_results, key=lambda t: t.rmse)
    model = train_model(best.params, features, seed=seed)
    rmse = evaluate(model, valid)
    run = FlowRunContext.get()
    report = render_report(rmse, [train, valid], trial_results, features.feature_count, model.trees)
    create_markdown_artifact(report, key=REPORT_KEY, description="RMSE, data and trials")
    return TrainingResult(
        rmse=rmse,
        model=model,
        params=best.params,
        trials=trial_results,
        train_month=train.label,
        valid_month=valid.label,
        quality={m.label: m.quality for m in (train, valid)},
        flow_run_id=run.flow_run.id if run is not None else "",
        report=report,
    )
