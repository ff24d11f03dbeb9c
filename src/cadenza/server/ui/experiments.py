"""Tracking pages: ``/experiments``, an experiment's runs ``/experiments/{id}``, the
comparison of runs ``/compare`` and the history of a metric ``/metrics``.

An experiment page is a table of its runs with the params and metrics chosen as
columns (``columns=``), sorted by any column (``order=``), filtered with the search
grammar (``filter=``) and paged (``page=``), all kept in its URL; under it, a chart of
a metric against a param (``x=``, ``y=``) over the runs of the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from cadenza.server.api.tracking_deps import get_tracking_store
from cadenza.server.ui import tracking_view as view
from cadenza.server.ui.run_page import not_found
from cadenza.server.ui.templating import render, secure
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.entities import Run
from cadenza.tracking.errors import InvalidFilter

router = APIRouter()

PAGE_SIZE = view.DEFAULT_PAGE_SIZE


@router.get("/experiments", include_in_schema=False)
def experiments_page(
    request: Request, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    return render(
        request,
        "experiments.html",
        {"section": "experiments", "experiments": store.list_experiments()},
    )


@router.get("/experiments/{experiment_id}", include_in_schema=False)
def experiment_page(
    request: Request,
    experiment_id: str,
    filter: str = "",
    order: str = "",
    columns: str | None = None,
    col: list[str] = Query([]),
    cols: str | None = None,
    page: str = "",
    size: int = Query(PAGE_SIZE, ge=1, le=500),
    x: str = "",
    y: str = "",
    store: TrackingStore = Depends(get_tracking_store),
) -> Response:
    experiment = store.get_experiment(experiment_id)
    if experiment is None:
        return not_found(request, "experiment", experiment_id)
    query = view.ExperimentQuery(
        experiment_id, filter.strip(), order.strip(), columns, page, x, y, size
    )
    if cols:
        # The column chooser's checkboxes, submitted with the search form: to the URL
        # that names the columns (and keeps them for the links of the page).
        return secure(RedirectResponse(query.url(columns=",".join(col), page=""), 303))
    keys = store.experiment_keys(experiment_id)
    chosen = view.parse_columns(columns, keys)
    error = None
    runs: list[Run] = []
    token = None
    try:
        found = store.search_runs(
            [experiment_id],
            query.filter,
            [query.order] if query.order else None,
            max_results=size,
            page_token=query.page or None,
        )
        runs, token = list(found), found.token
    except InvalidFilter as exc:
        error = str(exc)
    metric_columns = [view.Column("metrics", k) for k in keys.metrics]
    axis_columns = [view.Column("params", k) for k in keys.params] + metric_columns
    y_column = _pick(y, metric_columns)
    x_column = _pick(x, [c for c in axis_columns if c != y_column])
    scatter = view.scatter_points(runs, x_column, y_column) if x_column and y_column else None
    return render(
        request,
        "experiment.html",
        {
            "section": "experiments",
            "experiment": experiment,
            "query": query,
            "keys": keys,
            "columns": chosen,
            "all_columns": [view.Column("params", k) for k in keys.params]
            + metric_columns
            + [view.Column("tags", k) for k in keys.tags],
            "runs": runs,
            "error": error,
            "next_url": query.url(page=token) if token else None,
            "first_url": query.url(page="") if query.page else None,
            "x_column": x_column,
            "y_column": y_column,
            "axis_columns": axis_columns,
            "metric_columns": metric_columns,
            "scatter": scatter,
        },
        status_code=400 if error else 200,
    )


def _pick(name: str, choices: list[view.Column]) -> view.Column | None:
    """The column called ``name`` among ``choices``, else the first of them."""
    for c in choices:
        if name in (c.name, f"{c.entity}.{c.key}"):
            return c
    return choices[0] if choices else None


def _runs(store: TrackingStore, ids: list[str]) -> list[Run]:
    out = []
    for run_id in dict.fromkeys(i for part in ids for i in part.split(",") if i.strip()):
        found = store.get_run(run_id.strip())
        if found is not None:
            out.append(found)
    return out[: view.MAX_COMPARED]


def _longest_history(store: TrackingStore, runs: list[Run], keys: list[str]) -> str:
    """The metric with the most points in the first run (the one most worth a chart)."""
    if not runs or not keys:
        return ""
    first = runs[0].info.run_id
    return max(keys, key=lambda k: len(store.get_metric_history(first, k)))


@router.get("/compare", include_in_schema=False)
def compare_page(
    request: Request,
    runs: list[str] = Query([]),
    key: str = "",
    store: TrackingStore = Depends(get_tracking_store),
) -> Response:
    """Runs side by side: their params, metrics and tags, the differing rows marked,
    and the history of one metric of them all."""
    found = _runs(store, runs)
    rows = view.compare_rows(found)
    metric_keys = sorted({k for r in found for k in r.data.metrics})
    chosen = key if key in metric_keys else _longest_history(store, found, metric_keys)
    series = (
        view.history_series(store, [(r.info.run_id, r.info.run_name) for r in found], chosen)
        if chosen
        else []
    )
    return render(
        request,
        "compare.html",
        {
            "section": "experiments",
            "runs": found,
            "rows": rows,
            "metric_keys": metric_keys,
            "key": chosen,
            "series": series,
            "asked": len(runs),
        },
    )


@router.get("/metrics", include_in_schema=False)
def metric_page(
    request: Request,
    runs: list[str] = Query([]),
    key: str = "",
    store: TrackingStore = Depends(get_tracking_store),
) -> Response:
    """The history of the metric ``key`` of one run or more: a step chart and its points."""
    found = _runs(store, runs)
    if not found:
        return not_found(request, "run", ", ".join(runs) or "(none given)")
    series = view.history_series(store, [(r.info.run_id, r.info.run_name) for r in found], key)
    points = store.get_metric_history(found[0].info.run_id, key) if len(found) == 1 else []
    return render(
        request,
        "metric.html",
        {
            "section": "experiments",
            "runs": found,
            "key": key,
            "series": series,
            "points": points[:1000],
            "more_points": max(len(points) - 1000, 0),
        },
    )
