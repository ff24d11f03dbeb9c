"""The explicit tracking client: any run by its id, experiments, search.

``TrackingClient`` has the names and arguments of MLflow's ``MlflowClient``. It
works on the embedded store, or on a server when ``CADENZA_API_URL`` is set
(:func:`client_store` decides, for every kind of client).

Example::

    from cadenza import TrackingClient

    client = TrackingClient()
    experiment = client.get_experiment_by_name("train-taxi-model")  # @flow train_taxi_model
    best = client.search_runs(
        [experiment.experiment_id],
        "metrics.rmse < 6 and params.max_depth = '10'",
        order_by=["metrics.rmse ASC"],
        max_results=5,
    )
    for run in best:
        print(run.info.run_id, run.data.metrics["rmse"])
    history = client.get_metric_history(best[0].info.run_id, "val_loss")
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cadenza.exceptions import ObjectNotFound
from cadenza.registry.client import RegistryClient
from cadenza.reporting import flush_pending
from cadenza.tracking.errors import InvalidFilter

if TYPE_CHECKING:
    from cadenza.store.registry_base import RegistryStore
    from cadenza.store.tracking_base import ExperimentKeys, TrackingStore
    from cadenza.tracking.artifacts import ArtifactFile, ArtifactStore
    from cadenza.tracking.entities import Dataset, Experiment, Metric, Param, Run, RunPage, RunTag

S = TypeVar("S")


def client_store(remote: Callable[[str, str | None], S]) -> S:
    """The store a client uses, by the settings.

    With ``CADENZA_API_URL`` set, ``remote(api_url, api_key)`` (a store over the
    server's API); otherwise the embedded store (``CADENZA_DATABASE_URL`` or the
    SQLite file of ``CADENZA_HOME``), a :class:`~cadenza.store.sql.SqlStore`, which
    implements every store interface.

    Args:
        remote: makes the store of a server from its URL and API key.
    """
    from cadenza.settings import get_settings

    settings = get_settings()
    if settings.api_url:
        return remote(settings.api_url, settings.api_key)
    from cadenza.store import get_store

    return cast(S, get_store(settings.resolved_database_url))


def tracking_store() -> TrackingStore:
    """The tracking store of the settings (see :func:`client_store`)."""

    def remote(url: str, key: str | None) -> TrackingStore:
        from cadenza.client.http_tracking import HttpTrackingStore

        return HttpTrackingStore(url, key)

    return client_store(remote)


_EXPERIMENT_FILTER = re.compile(
    r"""^\s*(?:attributes\.)?name\s*(=|!=|LIKE|ILIKE)\s*(?:'([^']*)'|"([^"]*)")\s*$""",
    re.IGNORECASE,
)


def _like(pattern: str, *, case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", 0 if case else re.IGNORECASE | re.DOTALL)


class TrackingClient(RegistryClient):
    """Read and write what runs logged, by run id, outside runs; and, with the methods
    of :class:`~cadenza.registry.client.RegistryClient`, the model registry.

    Args:
        store: the tracking store; by default the embedded store, or the server's when
            ``CADENZA_API_URL`` is set. A store that is a registry store too (every
            SQL store is) serves the registry methods as well.
        artifacts: the artifact store; by default the one of the settings.
    """

    def __init__(
        self, store: TrackingStore | None = None, artifacts: ArtifactStore | None = None
    ) -> None:
        super().__init__()
        self._store = store
        self._artifacts = artifacts

    def _registry_store(self) -> RegistryStore:
        from cadenza.store.registry_base import RegistryStore

        if isinstance(self._store, RegistryStore):
            return self._store
        return super()._registry_store()

    @property
    def store(self) -> TrackingStore:
        if self._store is None:
            self._store = tracking_store()
        return self._store

    @property
    def artifact_store(self) -> ArtifactStore:
        if self._artifacts is None:
            from cadenza.tracking.artifacts import get_artifact_store

            self._artifacts = get_artifact_store()
        return self._artifacts

    # -- experiments ---------------------------------------------------------------------
    def create_experiment(self, name: str, description: str | None = None) -> str:
        """Create an experiment; returns its id.

        Raises:
            ExperimentAlreadyExists: an experiment has that name.
            InvalidTrackingValue: the name is empty or too long.
        """
        return self.store.create_experiment(name, description).experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id.

        Raises:
            ObjectNotFound: there is none.
        """
        found = self.store.get_experiment(experiment_id)
        if found is None:
            raise ObjectNotFound(f"There is no experiment with id {experiment_id!r}.")
        return found

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, or None."""
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self, filter_string: str | None = None, max_results: int = 1000
    ) -> list[Experiment]:
        """Experiments by name, optionally filtered on their name:
        ``name = 'taxi'``, ``name != 'Default'``, ``name LIKE 'taxi%'``, ``name ILIKE '%Taxi%'``.

        Raises:
            InvalidFilter: the filter is not one of these forms.
        """
        found = self.store.list_experiments()
        if filter_string and filter_string.strip():
            match = _EXPERIMENT_FILTER.match(filter_string)
            if match is None:
                raise InvalidFilter(
                    f"Invalid experiment filter {filter_string!r}: use name = 'x', name != 'x', "
                    "name LIKE 'x%' or name ILIKE '%x%'."
                )
            op = match.group(1).upper()
            value = match.group(2) if match.group(2) is not None else match.group(3)
            if op == "=":
                found = [e for e in found if e.name == value]
            elif op == "!=":
                found = [e for e in found if e.name != value]
            else:
                pattern = _like(value, case=op == "LIKE")
                found = [e for e in found if pattern.match(e.name)]
        return found[:max_results]

    def experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        """The param, metric and tag keys logged by the experiment's runs."""
        return self.store.experiment_keys(experiment_id)

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run:
        """A flow run or task run with what it logged.

        Raises:
            ObjectNotFound: there is no run with this id.
        """
        found = self.store.get_run(run_id)
        if found is None:
            raise ObjectNotFound(f"There is no flow run or task run with id {run_id!r}.")
        return found

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        """Runs of the experiments matching the filter, one page (see
        :mod:`cadenza.tracking.search` for the grammar); ``.token`` of the result gives
        the next page.

        Raises:
            InvalidFilter: the filter, an ``order_by`` clause or the token is malformed.
        """
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self.store.search_runs(ids, filter_string, order_by, max_results, page_token)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of the metric of a run, by step then time (empty if none)."""
        return self.store.get_metric_history(run_id, key)

    def list_datasets(self, run_id: str) -> list[Dataset]:
        """The datasets a run logged with ``log_input``."""
        return self.store.list_datasets(run_id)

    # -- writing ---------------------------------------------------------------------------
    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Record a param on a run; returns ``value``.

        Raises:
            ObjectNotFound: there is no run with this id.
            ParamConflict: the run has this param with another value.
        """
        from cadenza.tracking.entities import Param

        flush_pending()
        self.store.log_batch(run_id, params=[Param(key, value)])
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: float | None = None,
        step: int | None = None,
    ) -> None:
        """Record a point of a metric on a run (``timestamp`` in seconds, now by default).

        Raises:
            ObjectNotFound: there is no run with this id.
            InvalidTrackingValue: the key or value is not valid.
        """
        from cadenza.tracking.entities import Metric

        point = Metric(key, value, time.time() if timestamp is None else timestamp, step or 0)
        flush_pending()
        self.store.log_batch(run_id, metrics=[point])

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Record metrics, params and tags on a run in one write.

        Raises:
            ObjectNotFound: there is no run with this id.
            InvalidTrackingValue: a key or value is not valid.
            ParamConflict: a param has another value already (nothing is recorded).
        """
        flush_pending()
        self.store.log_batch(run_id, metrics, params, tags)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set a tag of a run.

        Raises:
            ObjectNotFound: there is no run with this id.
        """
        from cadenza.tracking.entities import RunTag

        flush_pending()
        self.store.log_batch(run_id, tags=[RunTag(key, value)])

    def log_inputs(self, run_id: str, datasets: Sequence[Dataset]) -> None:
        """Record datasets a run read (see :func:`cadenza.tracking.datasets.describe`).

        Raises:
            ObjectNotFound: there is no run with this id.
        """
        flush_pending()
        self.store.log_inputs(run_id, datasets)

    # -- artifacts -------------------------------------------------------------------------
    def _known(self, run_id: str) -> str:
        from cadenza.tracking.artifacts import validate_run_id

        validate_run_id(run_id)
        self.get_run(run_id)
        return run_id

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local file into a run's artifacts, as
        :func:`cadenza.tracking.artifacts.log_artifact` does.

        Raises:
            ObjectNotFound: there is no run with this id.
            InvalidArtifactPath: the file or the path is not valid.
        """
        from cadenza.tracking.artifacts import put_file

        put_file(self.artifact_store, self._known(run_id), local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local folder into a run's artifacts.

        Raises:
            ObjectNotFound: there is no run with this id.
            InvalidArtifactPath: the folder or the path is not valid.
        """
        from cadenza.tracking.artifacts import put_dir

        put_dir(self.artifact_store, self._known(run_id), local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactFile]:
        """The files and folders directly in a folder of a run's artifacts."""
        from cadenza.tracking.artifacts import validate_path, validate_run_id

        return self.artifact_store.list(validate_run_id(run_id), validate_path(path, "path"))

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> Path:
        """A local copy of a file or folder of a run's artifacts (see
        :func:`cadenza.tracking.artifacts.download_artifacts`).

        Raises:
            ArtifactNotFound: the run has nothing at ``path``.
        """
        from cadenza.tracking.artifacts import fetch

        return fetch(self.artifact_store, run_id, path, dst_path)
