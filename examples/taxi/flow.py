"""The flow: a month of green-taxi trips in, a trip-duration model and its RMSE out.

    download (or locate) both months ─▶ read and validate ─▶ features ─▶ tuning trials
    ─▶ final model, early-stopped on the next month ─▶ evaluation ─▶ log the model
    ─▶ register it ─▶ promote it if it beats the champion ─▶ markdown report

Downloads, reads and features are cached on their inputs and their task's source code
(results persisted in ``CADENZA_HOME/results``): a second run with the same inputs
shows them ``Cached`` and goes straight to training.

What the runs record for tracking: each trial its params, RMSE and validation curve;
the flow run the months as datasets (``log_input``), the features, the final params,
the training and validation RMSE, the champion's RMSE on the same month, and tags
(months, model version, alias).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

import cadenza
from cadenza import (
    create_markdown_artifact,
    exponential_backoff,
    flow,
    get_run_logger,
    unmapped,
)
from cadenza.context import FlowRunContext
from cadenza.registry import validate
from cadenza.runtime import flow_run
from cadenza.settings import get_settings
from examples.taxi.download import TLC_URL, MonthFile, download_month, is_url, locate_month
from examples.taxi.features import build_features, log_features
from examples.taxi.months import check_month, label, next_month, training_month_for
from examples.taxi.registry import (
    MODEL_NAME,
    Promotion,
    log_duration_model,
    model_example,
    promote,
    register,
)
from examples.taxi.report import REPORT_KEY, render_report
from examples.taxi.training import SEED, DurationModel, evaluate, train_model
from examples.taxi.tuning import TrialResult, tune
from examples.taxi.validate import DataQuality, MonthTrips, read_month


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
    train_rmse: float
    """RMSE in minutes of the model on the training month."""
    model_uri: str
    """Where the model was logged: ``runs:/<task run id>/model``."""
    promotion: Promotion
    """The registered version (``promotion.version``), its alias (``champion`` or
    ``challenger``) and the champion it was compared with."""
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


def resolve_month(year: int | None, month: int | None, months_back: int) -> tuple[int, int]:
    """The training month: ``year-month``, or when both are None the one picked from the
    run's scheduled time (see :func:`~examples.taxi.months.training_month_for`)."""
    if year is not None and month is not None:
        return year, month
    if year is not None or month is not None:
        raise ValueError(
            f"Give both year and month (got year={year}, month={month}), or neither: "
            "then the months are picked from the run's scheduled time (see months_back)."
        )
    when = flow_run.scheduled_start_time
    year, month = training_month_for(when, months_back)
    get_run_logger().info(
        "Training on %s and validating on %s, for the run due at %s",
        label(year, month),
        label(*next_month(year, month)),
        when.isoformat(timespec="minutes"),
    )
    return year, month


def log_months(files: list[MonthFile], months: list[MonthTrips]) -> None:
    """Record the trips of both months as the flow run's datasets (their fingerprints,
    schema and rows), with where they came from and what they were used for."""
    for file, trips, context in zip(files, months, ("training", "validation"), strict=True):
        cadenza.log_input(
            trips.trips,
            name=f"green_tripdata_{trips.label}",
            source=file.origin if is_url(file.origin) else str(file.path),
            context=context,
        )


def log_outcome(promotion: Promotion) -> None:
    """Record on the flow run which version the model became and how it compared."""
    cadenza.set_tags(
        {
            "model_name": promotion.name,
            "model_version": promotion.version,
            "model_alias": promotion.alias,
        }
    )
    if promotion.champion_version is not None:
        cadenza.set_tag("champion_version", promotion.champion_version)
    if promotion.champion_rmse is not None:
        cadenza.log_metric("champion_rmse", promotion.champion_rmse)


# ``!s``: a run whose months come from its scheduled time is named before they are
# known (taxi-None-None); the runs of a deployment take the scheduler's names.
@flow(name="train-duration-model", flow_run_name="taxi-{year!s}-{month!s:0>2}")
def train_duration_model(
    year: Annotated[int, Field(ge=2013)] | None = 2023,
    month: Annotated[int, Field(ge=1, le=12)] | None = 1,
    trials: Annotated[int, Field(ge=1)] = 10,
    source: str | Path = TLC_URL,
    data_dir: Path | None = None,
    parallel: Annotated[int, Field(ge=1)] = 2,
    retry_delay: Annotated[float, Field(ge=0)] = 2.0,
    seed: int = SEED,
    model_name: str = MODEL_NAME,
    months_back: Annotated[int, Field(ge=1)] = 1,
) -> TrainingResult:
    """Train a model of trip duration on one month, validated on the next; register it,
    and make it the champion if it beats the current one on that month.

    Args:
        year: the year of the training month.
        month: the training month, 1 to 12; the validation month is the next one
            (January of the next year after December). With year and month None, the
            months are picked from the run's scheduled time (``months_back``).
        trials: how many hyperparameter trials to run.
        source: the base URL of the monthly files (the TLC's by default, or a
            mirror's), or a local folder holding them.
        data_dir: where downloads are kept (default ``CADENZA_HOME/taxi/downloads``).
        parallel: how many trials train at once.
        retry_delay: the first wait before retrying a failed download, in seconds;
            it doubles with each retry.
        seed: the seed of the search and of XGBoost.
        model_name: the registered model the new version is added to.
        months_back: with year and month None, validate on the month this many months
            before the month of the scheduled time (1: the month that ended last), and
            train on the month before that.
    """
    validate.model_name(model_name)  # a bad name fails before the training, not after
    year, month = resolve_month(year, month, months_back)
    check_month(year, month)
    months = [(year, month), next_month(year, month)]
    cadenza.set_tags(
        {
            "year": year,
            "month": month,
            "train_month": label(*months[0]),
            "validation_month": label(*months[1]),
        }
    )
    folder = data_dir.expanduser() if data_dir is not None else default_download_dir()
    files = fetch_months(months, str(source), folder, retry_delay)
    train, valid = read_month.map(files).result()
    log_months(files, [train, valid])
    features = build_features(train, valid)
    log_features(features)
    trial_results = tune(features, trials, parallel, seed)
    best = min(trial_results, key=lambda t: t.rmse)
    model = train_model(best.params, features, seed=seed)
    rmse = evaluate(model, valid)
    train_rmse = evaluate(model, train)
    cadenza.log_params({**best.params, "best_trial": best.number})
    cadenza.log_metrics({"rmse": rmse, "train_rmse": train_rmse, "trees": model.trees})

    model_uri = log_duration_model(model, model_example(valid))
    version = register(model_uri, model_name, rmse, train.label, valid.label)
    promotion = promote(model_name, version, rmse, valid)
    log_outcome(promotion)

    run = FlowRunContext.get()
    report = render_report(
        rmse, [train, valid], trial_results, features.feature_count, model.trees, promotion
    )
    create_markdown_artifact(report, key=REPORT_KEY, description="RMSE, data, trials, model")
    return TrainingResult(
        rmse=rmse,
        model=model,
        params=best.params,
        trials=trial_results,
        train_month=train.label,
        valid_month=valid.label,
        train_rmse=train_rmse,
        model_uri=model_uri,
        promotion=promotion,
        quality={m.label: m.quality for m in (train, valid)},
        flow_run_id=run.flow_run.id if run is not None else "",
        report=report,
    )
