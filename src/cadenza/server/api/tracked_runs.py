"""``/api/runs``: what flow runs and task runs logged (params, metrics, tags, datasets),
and searching them.

A run is a flow run or a task run, named by its id.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.events_json import number_from_json
from cadenza.server.api import convert
from cadenza.server.api import tracking_models as models
from cadenza.server.api.errors import ApiError, invalid, responses
from cadenza.server.api.tracking_deps import get_tracking_store, tracking_errors
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.entities import Dataset, Metric, Param, Run, RunTag

router = APIRouter(tags=["tracking"])

_FILTER_ERROR: dict[int | str, dict[str, Any]] = {
    400: {"description": "A malformed filter (code INVALID_FILTER)."}
}


def read_run(store: TrackingStore, run_id: str) -> Run:
    """The run with this id, or a 404 error."""
    found = store.get_run(run_id)
    if found is None:
        raise ApiError("NOT_FOUND", f"There is no flow run or task run with id {run_id!r}.")
    return found


@router.post("/runs/search", response_model=models.RunPage, responses=_FILTER_ERROR)
def search_runs(
    body: models.SearchRuns, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    """Search the runs of experiments with a filter, in an order, one page at a time.

    The filter is comparisons joined by ``and``: ``metrics.rmse < 6 and
    params.max_depth = "10" and tags.team != "x" and attributes.status = "FAILED"``
    (``LIKE``, ``ILIKE``, ``IN`` too). ``order_by`` clauses such as
    ``"metrics.rmse ASC"`` apply in order, runs lacking the value last; then newest
    first. Pass ``next_page_token`` back as ``page_token``, with the same request, for
    the next page.
    """
    with tracking_errors():
        page = store.search_runs(
            body.experiment_ids, body.filter, body.order_by, body.max_results, body.page_token
        )
    return convert.respond(
        models.RunPage(runs=[models.run(r) for r in page], next_page_token=page.token)
    )


@router.get("/runs/{run_id}", response_model=models.Run, responses=responses(404))
def read_run_detail(run_id: str, store: TrackingStore = Depends(get_tracking_store)) -> Response:
    """Read a run: its info (kind, name, status, experiment, times), what it logged and
    the datasets it read."""
    return convert.respond(models.run(read_run(store, run_id)))


@router.get("/runs/{run_id}/data", response_model=models.RunData, responses=responses(404))
def read_run_data(run_id: str, store: TrackingStore = Depends(get_tracking_store)) -> Response:
    """Read the params, the latest value of each metric, and the tags of a run."""
    data = store.get_run_data(run_id)
    if not data:
        read_run(store, run_id)
    return convert.respond(models.run_data(data))


@router.get(
    "/runs/{run_id}/metric-history",
    response_model=models.MetricHistory,
    responses=responses(400, 404),
)
def read_metric_history(
    run_id: str,
    key: str = Query(min_length=1, max_length=250, description="The metric's key."),
    store: TrackingStore = Depends(get_tracking_store),
) -> Response:
    """Every point of a metric of a run, by step, then time."""
    points = store.get_metric_history(run_id, key)
    if not points:
        read_run(store, run_id)
    return convert.respond(
        models.MetricHistory(run_id=run_id, key=key, items=[models.metric_point(p) for p in points])
    )


@router.post(
    "/runs/{run_id}/log-batch",
    response_model=models.Logged,
    responses={**responses(400, 404), 409: {"description": "Code PARAM_CONFLICT."}},
)
def log_batch(
    run_id: str, body: models.LogBatch, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    """Record metrics, params and tags on a run, in one transaction.

    A param that has another value already is refused (409, code PARAM_CONFLICT), and
    nothing of the batch is recorded. Runs record what they log from inside through
    ``POST /api/events`` instead.
    """
    now = time.time()
    metrics = []
    for i, m in enumerate(body.metrics):
        try:
            value = number_from_json(m.value)
        except ValueError:
            raise invalid(f"metrics.{i}.value", "must be a number, NaN or Infinity.") from None
        metrics.append(Metric(m.key, value, now if m.timestamp is None else m.timestamp, m.step))
    params = [Param(p.key, p.value) for p in body.params]
    tags = [RunTag(t.key, t.value) for t in body.tags]
    with tracking_errors():
        store.log_batch(run_id, metrics, params, tags)
    return convert.respond(
        models.Logged(run_id=run_id, metrics=len(metrics), params=len(params), tags=len(tags))
    )


@router.get("/runs/{run_id}/datasets", response_model=models.DatasetList, responses=responses(404))
def list_datasets(run_id: str, store: TrackingStore = Depends(get_tracking_store)) -> Response:
    """The datasets a run read (``cadenza.log_input``), in the order logged."""
    found = store.list_datasets(run_id)
    if not found:
        read_run(store, run_id)
    return convert.respond(models.DatasetList(items=[models.dataset(d) for d in found]))


@router.post(
    "/runs/{run_id}/datasets", response_model=models.DatasetList, responses=responses(400, 404)
)
def log_datasets(
    run_id: str, body: models.DatasetsIn, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    """Record datasets a run read; returns every dataset of the run."""
    datasets = [
        Dataset(
            name=d.name,
            digest=d.digest,
            source=d.source,
            context=d.context,
            schema=d.schema_,
            num_rows=d.num_rows,
            profile=d.profile,
            timestamp=d.timestamp_epoch or time.time(),
        )
        for d in body.datasets
    ]
    with tracking_errors():
        store.log_inputs(run_id, datasets)
    found = store.list_datasets(run_id)
    return convert.respond(models.DatasetList(items=[models.dataset(d) for d in found]))
