"""The tracking store interface: experiments, and what runs logged.

One abstract class, one written contract per method. The SQL implementation is a
mixin of :class:`cadenza.store.sql.SqlStore` (:mod:`cadenza.store.tracking_sql`);
:class:`cadenza.client.http_tracking.HttpTrackingStore` implements it over a
server's REST API. The contract tests in ``tests/store`` run against both.

A *run* is a flow run or a task run, named by its id. Flow runs always belong to
an experiment (by default the one named after their flow); a task run joins the
experiment of its flow run when it first logs something (a task run outside any
flow joins the experiment ``Default``).

Fluent calls inside runs do not go through these methods: they are events applied
by :meth:`cadenza.store.base.RunStore.apply`, in the batches of the background
writer. The methods here serve the explicit client, the API and the UI.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cadenza.tracking.entities import (
        Dataset,
        Experiment,
        Metric,
        Param,
        Run,
        RunData,
        RunPage,
        RunTag,
    )

DEFAULT_EXPERIMENT = "Default"
"""The experiment of task runs that log something outside any flow run."""

MAX_RESULTS = 50_000
"""The largest page of :meth:`TrackingStore.search_runs`."""


@dataclasses.dataclass(frozen=True, slots=True)
class ExperimentKeys:
    """The param, metric and tag keys that runs of an experiment logged, each sorted."""

    params: list[str]
    metrics: list[str]
    tags: list[str]


class TrackingStore(abc.ABC):
    """Where experiments and the params, metrics, tags and datasets of runs are kept."""

    # -- experiments -----------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, name: str, description: str | None = None) -> Experiment:
        """Create an experiment named ``name`` and return it (with no runs).

        Raises:
            InvalidTrackingValue: ``name`` is empty, not a str or longer than 255
                characters.
            ExperimentAlreadyExists: an experiment has that name (also one created
                on demand for a flow's runs).
        """

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment | None:
        """The experiment with this id and its run count, or None if unknown."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name (compared exactly) and its run count, or None."""

    @abc.abstractmethod
    def list_experiments(self) -> list[Experiment]:
        """Every experiment with its run count and newest run's time, by name.

        Returns an empty list when there are none.
        """

    @abc.abstractmethod
    def experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        """The keys of params, metrics and tags logged by runs of the experiment.

        Empty lists for an unknown experiment or one whose runs logged nothing.
        """

    # -- runs ------------------------------------------------------------------------
    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run | None:
        """The flow run or task run with this id, what it logged and the datasets it
        read, or None when there is no run with this id.

        A task run that logged nothing is a run too: its ``info.experiment_id`` is None
        and its data empty.
        """

    @abc.abstractmethod
    def get_run_data(self, run_id: str) -> RunData:
        """The params, the latest value of each metric, and the tags of a run.

        "Latest" is the point of the highest step, then the latest timestamp. A NaN
        value is returned as ``float("nan")``. Returns an empty :class:`RunData` for
        an unknown run or one that logged nothing.
        """

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point logged for the metric ``key`` of a run, by step, then time.

        Returns an empty list when the run or the metric is unknown.
        """

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunPage:
        """The runs of these experiments that match ``filter_string``, one page.

        The filter grammar is :mod:`cadenza.tracking.search`'s (``metrics.rmse < 6
        and params.max_depth = "10"``). ``order_by`` clauses (``"metrics.rmse ASC"``,
        ``"attributes.start_time DESC"``) apply in order, runs lacking the value
        last; ties, and the default order, are newest run first. The page's
        ``token``, passed back as ``page_token`` with the same arguments, gives the
        next page; it is None on the last page. Unknown experiment ids match no run.
        Returns an empty page when nothing matches.

        Raises:
            InvalidFilter: ``filter_string``, an ``order_by`` clause or
                ``page_token`` is malformed (the message names the token at fault and
                the grammar), or ``max_results`` is not between 1 and
                :data:`MAX_RESULTS`.
        """

    @abc.abstractmethod
    def list_datasets(self, run_id: str) -> list[Dataset]:
        """The datasets a run logged with ``cadenza.log_input``, by the time they were
        logged (then by name and context).

        Returns an empty list for an unknown run or one that logged none.
        """

    # -- writing, outside runs -----------------------------------------------------------
    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Record metrics, params and tags on a run, durably, before returning.

        A param logged again with the same value is kept as is. The same metric point
        (key, value, timestamp and step) logged twice is one point. A tag set again
        takes the new value. The run joins an experiment as it would by logging from
        inside (see the module).

        Raises:
            ObjectNotFound: there is no flow run or task run with this id.
            InvalidTrackingValue: a key or value is not valid.
            ParamConflict: a param of the run has another value already; nothing of
                the batch was recorded.
            StoreError: the store could not be written.
        """

    @abc.abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[Dataset]) -> None:
        """Record datasets a run read, durably. A dataset of the same name, digest and
        context logged again on the run is recorded once.

        Raises:
            ObjectNotFound: there is no flow run or task run with this id.
            StoreError: the store could not be written.
        """
