"""The markdown report a training run leaves as its artifact."""

from __future__ import annotations

from examples.taxi.registry import Promotion
from examples.taxi.tuning import TrialResult
from examples.taxi.validate import MALFORMED, MAX_MINUTES, MIN_MINUTES, MonthTrips

REPORT_KEY = "taxi-duration-model"
"""The artifact key of the report: every run adds a version."""


def _value(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def describe_promotion(promotion: Promotion) -> str:
    """``taxi-duration version 3 is the champion: beat version 2 on 2023-02: ...``."""
    return (
        f"{promotion.name} version {promotion.version} is the {promotion.alias}: "
        f"{promotion.reason}."
    )


def render_report(
    rmse: float,
    months: list[MonthTrips],
    trials: list[TrialResult],
    features: int,
    trees: int,
    promotion: Promotion,
) -> str:
    """The report: the RMSE, the model version, the data read, the best parameters and
    every trial.

    Args:
        rmse: of the final model on the validation month, in minutes.
        months: the training month and the validation month.
        trials: every trial, in trial order.
        features: how many columns the feature matrix has.
        trees: how many trees the final model kept.
        promotion: the registered version and its alias.
    """
    train, valid = months
    best = min(trials, key=lambda t: t.rmse)
    lines = [
        f"# Trip duration model: trained on {train.label}, validated on {valid.label}",
        "",
        f"**RMSE on {valid.label}: {rmse:.3f} minutes** (XGBoost on the zone pair `PU_DO` and "
        f"`trip_distance`, {features:,} features, {trees} trees).",
        "",
        describe_promotion(promotion),
        "",
        "## Data",
        "",
        f"| month | rows | kept | malformed | outside {MIN_MINUTES:g}-{MAX_MINUTES:g} min |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in months:
        q = m.quality
        lines.append(
            f"| {m.label} | {q.rows:,} | {q.kept:,} | {q.malformed:,} | {q.out_of_range:,} |"
        )
    lines.append("")
    for m in months:
        if m.quality.malformed:
            lines.append(f"- Malformed rows of {m.label}: {m.quality.describe(MALFORMED)}.")
    lines += [
        "",
        f"## Best parameters (trial {best.number} of {len(trials)})",
        "",
        "| parameter | value |",
        "|---|---|",
        *(f"| {name} | {_value(value)} |" for name, value in best.params.items()),
        "",
        "## Trials",
        "",
        "| trial | RMSE | trees | " + " | ".join(best.params) + " |",
        "|---:|---:|---:|" + "---:|" * len(best.params),
    ]
    for t in trials:
        cells = " | ".join(_value(t.params[name]) for name in best.params)
        lines.append(f"| {t.number} | {t.rmse:.3f} | {t.trees} | {cells} |")
    return "\n".join(lines) + "\n"
