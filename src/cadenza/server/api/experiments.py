"""``/api/experiments``: named groups of runs (tracking)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from cadenza.server.api import convert
from cadenza.server.api import tracking_models as models
from cadenza.server.api.errors import ApiError, responses
from cadenza.server.api.tracking_deps import get_tracking_store, tracking_errors
from cadenza.store.tracking_base import TrackingStore
from cadenza.tracking.entities import Experiment

router = APIRouter(tags=["experiments"])


@router.get("/experiments", response_model=models.ExperimentList)
def list_experiments(store: TrackingStore = Depends(get_tracking_store)) -> Response:
    """List every experiment, by name, with its run count and newest run's time."""
    items = [models.experiment(e) for e in store.list_experiments()]
    return convert.respond(models.ExperimentList(items=items))


@router.post(
    "/experiments",
    response_model=models.Experiment,
    status_code=201,
    responses={**responses(400), 409: {"description": "The name is taken (code CONFLICT)."}},
)
def create_experiment(
    body: models.ExperimentCreate, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    """Create an experiment. Flow runs join the experiment named after their flow
    (created on demand) unless ``cadenza.set_experiment`` puts them in another."""
    with tracking_errors():
        created = store.create_experiment(body.name, body.description)
    return convert.respond(models.experiment(created), status_code=201)


@router.get("/experiments/by-name", response_model=models.Experiment, responses=responses(400, 404))
def read_experiment_by_name(
    name: str = Query(min_length=1, max_length=255, description="The name, exactly."),
    store: TrackingStore = Depends(get_tracking_store),
) -> Response:
    """Read the experiment of this name."""
    found = store.get_experiment_by_name(name)
    if found is None:
        raise ApiError("NOT_FOUND", f"There is no experiment named {name!r}.")
    return convert.respond(models.experiment(found))


def experiment_or_404(store: TrackingStore, experiment_id: str) -> Experiment:
    """The experiment with this id, or a 404 error."""
    found = store.get_experiment(experiment_id)
    if found is None:
        raise ApiError("NOT_FOUND", f"There is no experiment with id {experiment_id!r}.")
    return found


@router.get(
    "/experiments/{experiment_id}", response_model=models.Experiment, responses=responses(404)
)
def read_experiment(
    experiment_id: str, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    """Read one experiment."""
    return convert.respond(models.experiment(experiment_or_404(store, experiment_id)))


@router.get(
    "/experiments/{experiment_id}/keys", response_model=models.Keys, responses=responses(404)
)
def read_experiment_keys(
    experiment_id: str, store: TrackingStore = Depends(get_tracking_store)
) -> Response:
    """The param, metric and tag keys its runs logged (the columns of a runs table)."""
    experiment_or_404(store, experiment_id)
    return convert.respond(models.keys(store.experiment_keys(experiment_id)))
