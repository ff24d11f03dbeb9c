"""The main job: the NYC-taxi pipeline end to end, on this machine alone.

It generates the two months it needs when they are missing (into
``CADENZA_HOME/taxi/mirror``, or ``--data-dir``), serves them from a local HTTP mirror
on 127.0.0.1 whose first answer for each file is ``503`` (so the downloads show real
retries), runs the flow, and says what came out (the RMSE, the model version and its
alias) and where to look at the run, its experiment and the model.

    python -m examples.taxi                      # or: make demo
    python -m examples.taxi --month 12 --trials 4
    python -m examples.taxi --source tlc         # the TLC's real files, where reachable
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pyarrow.parquet as pq

from cadenza.settings import get_settings
from examples.taxi.data import ensure_months
from examples.taxi.download import TLC_URL
from examples.taxi.flow import TrainingResult, train_duration_model
from examples.taxi.mirror import FlakyMirror
from examples.taxi.months import check_month, file_name, label, next_month
from examples.taxi.registry import MODEL_NAME, Promotion

DASHBOARD = "http://127.0.0.1:4200"
MIRROR_PORT = 4280
"""The mirror's port: the same URLs on every run, so that a second run finds its
downloads cached (another free port is taken when this one is busy)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m examples.taxi",
        description="Train a model of NYC green-taxi trip durations with cadenza.",
    )
    parser.add_argument("--year", type=int, default=2023, help="year of the training month")
    parser.add_argument("--month", type=int, default=1, help="training month (1-12)")
    parser.add_argument("--trials", type=int, default=10, help="hyperparameter trials")
    parser.add_argument("--parallel", type=int, default=2, help="trials trained at once")
    parser.add_argument(
        "--model-name", default=MODEL_NAME, help=f"registered model (default {MODEL_NAME})"
    )
    parser.add_argument(
        "--rows", type=int, default=None, help="trips per generated month (default 60-80k)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder of the generated months (default CADENZA_HOME/taxi/mirror)",
    )
    parser.add_argument(
        "--source",
        default="mirror",
        help="'mirror' (generated months behind a flaky local mirror, the default), "
        "'tlc' (the TLC's files), or another base URL or local folder",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process's exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        check_month(args.year, args.month)
    except ValueError as exc:
        parser.error(str(exc))
    months = [(args.year, args.month), next_month(args.year, args.month)]
    options = {
        "year": args.year,
        "month": args.month,
        "trials": args.trials,
        "parallel": args.parallel,
        "model_name": args.model_name,
    }
    started = time.perf_counter()
    if args.source != "mirror":
        source = TLC_URL if args.source == "tlc" else args.source
        result = train_duration_model(**options, source=source)
    else:
        folder = args.data_dir or get_settings().home / "taxi" / "mirror"
        for (year, month), path in zip(
            months, ensure_months(folder, months, args.rows), strict=True
        ):
            print(f"{label(year, month)}: {pq.read_metadata(path).num_rows:,} trips in {path}")
        mirror = _start_mirror(folder)
        try:
            print(f"Serving them at {mirror.url}; its first answer for each file is 503.\n")
            result = train_duration_model(**options, source=mirror.url, retry_delay=1.0)
        finally:
            mirror.stop()
        requests = ", ".join(
            f"{file_name(y, m)} {mirror.requests[file_name(y, m)]}" for y, m in months
        )
        print(f"\nRequests to the mirror: {requests} (none when the downloads were cached)")
    _summary(result, time.perf_counter() - started)
    return 0


def _start_mirror(folder: Path) -> FlakyMirror:
    try:
        return FlakyMirror(folder, failures=1, port=MIRROR_PORT).start()
    except OSError:
        print(
            f"Port {MIRROR_PORT} is busy: the mirror takes another one, so downloads "
            "cached by earlier runs are not reused this time (reads and features are)."
        )
        return FlakyMirror(folder, failures=1).start()


def _summary(result: TrainingResult, seconds: float) -> None:
    best = min(result.trials, key=lambda t: t.rmse)
    params = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.params.items()
    )
    run = result.flow_run_id
    promotion = result.promotion
    cadenza = _cadenza_command()
    print(
        f"\nRMSE on {result.valid_month}: {result.rmse:.3f} minutes "
        f"({result.train_rmse:.3f} on {result.train_month}, the training month; "
        f"{result.model.trees} trees, best of {len(result.trials)} trials: trial {best.number}, "
        f"{params})\n"
        f"Model: {_model_line(promotion)}\n"
        f"Flow run {run}, finished in {seconds:.0f} s.\n\n"
        f"The run:        {cadenza} runs show {run}\n"
        f"Its report:     {cadenza} artifacts show taxi-duration-model\n"
        f"The model:      {cadenza} models show {promotion.name}\n"
        f"The dashboard:  {cadenza} server start, then open\n"
        f"  the run:          {DASHBOARD}/runs/{run}\n"
        f"  the experiment:   {_experiment_url(run)}  (trials and runs by RMSE)\n"
        f"  the model:        {DASHBOARD}/models/{quote(promotion.name)}/versions/"
        f"{promotion.version}  (its lineage; all versions at "
        f"{DASHBOARD}/models/{quote(promotion.name)})\n"
        "Run it again: the downloads, reads and features come back Cached."
    )


def _model_line(promotion: Promotion) -> str:
    """``taxi-duration version 2, the challenger: ...`` for the summary."""
    head = f"{promotion.name} version {promotion.version}"
    if promotion.champion_version is None:
        return f"{head}, the champion (the first version)."
    if promotion.promoted:
        return (
            f"{head}, the new champion: it beat version {promotion.champion_version} "
            f"(RMSE {promotion.champion_rmse:.3f} on {promotion.valid_month})."
        )
    if promotion.champion_rmse is None:
        return f"{head}, the challenger: {promotion.reason}."
    return (
        f"{head}, the challenger: the champion, version {promotion.champion_version}, "
        f"scores RMSE {promotion.champion_rmse:.3f} on {promotion.valid_month}."
    )


def _experiment_url(flow_run_id: str) -> str:
    """The dashboard's page of the run's experiment, its runs ordered by RMSE."""
    from cadenza import TrackingClient

    experiment = TrackingClient().get_run(flow_run_id).info.experiment_id
    return f"{DASHBOARD}/experiments/{experiment}?{urlencode({'order': 'metrics.rmse ASC'})}"


def _cadenza_command() -> str:
    """How to call the ``cadenza`` command from here: its name if on the PATH, else its path."""
    if shutil.which("cadenza"):
        return "cadenza"
    script = Path(sys.executable).parent / "cadenza"
    try:
        return os.path.relpath(script)
    except ValueError:
        return str(script)


if __name__ == "__main__":
    raise SystemExit(main())
