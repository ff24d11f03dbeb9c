"""What a run of the suite measures: workloads, sizes and repetitions."""

from __future__ import annotations

from dataclasses import dataclass

WORKLOADS = (
    "sequential",
    "submit",
    "map",
    "startup",
    "import",
    "memory",
    "cache_hit",
    "cache_miss",
    "hashing",
    "ingestion",
    "runs_list",
    "run_page",
    "log_metric",
    "log_batch",
    "runs",
    "registry",
)
FRAMEWORKS = ("plain", "cadenza", "prefect", "mlflow")
# Names that stand for several workloads in ``--only``.
GROUPS = {
    "caching": ("cache_hit", "cache_miss", "hashing"),
    "server": ("ingestion", "runs_list", "run_page"),
    "tracking": ("log_metric", "log_batch", "runs", "registry"),
}


def competitor(workload: str) -> str:
    """The framework cadenza is compared with on ``workload``.

    MLflow for experiment tracking and the model registry, which Prefect has not;
    Prefect for everything else.
    """
    return "mlflow" if workload in GROUPS["tracking"] else "prefect"


@dataclass(frozen=True)
class TrackingPlan:
    """Sizes of the tracking and registry workloads.

    Attributes:
        points: metric points of ``log_metric`` (single calls) and ``log_batch`` (one call).
        mlflow_server_points: MLflow's single ``log_metric`` calls against its server,
            which at ~10 ms a request would take minutes at ``points``.
        runs: runs created with 5 params and 5 metrics each, then searched.
        searches: timed ``search_runs`` calls of each kind (the median counts).
        rounds: timed rounds of the registry workload (log, register, alias, load,
            predict), after an untimed one; the median of each step counts.
        mlflow_reps: processes per size for MLflow (plain Python and cadenza: ``Plan.reps``).
    """

    points: int
    mlflow_server_points: int
    runs: int
    searches: int
    rounds: int
    mlflow_reps: int


@dataclass(frozen=True)
class ServerPlan:
    """Sizes of the server workloads.

    Attributes:
        store: flow runs, task runs, and task runs of the big run, of the seeded store
            the runs list and the run page are timed on (cadenza and plain Python).
        compare_store: the same for the smaller store Prefect is seeded with; cadenza
            and plain Python are timed on it too, to compare like with like.
        requests: timed requests of each endpoint (the percentiles come from these).
        warmup: requests of each endpoint before the timed ones.
        ingest: flows and task runs per flow of the ingestion client (plain Python
            and cadenza).
        prefect_ingest: the same for Prefect.
        post_batches: batches of 5,000 pre-encoded events sent to ``POST /api/events``.
    """

    store: tuple[int, int, int]
    compare_store: tuple[int, int, int]
    requests: int
    warmup: int
    ingest: tuple[int, int]
    prefect_ingest: tuple[int, int]
    post_batches: int

    def ingest_for(self, framework: str) -> tuple[int, int]:
        return self.prefect_ingest if framework == "prefect" else self.ingest


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one run of the suite.

    Attributes:
        mode: "full" or "quick".
        sizes: the two task counts whose difference gives the marginal cost per task.
        memory_size: task count of the peak-memory flow for plain Python and cadenza.
        prefect_memory_size: the same for Prefect, which would take too long at ``memory_size``.
        prefect_cache_sizes: Prefect's ``sizes`` in the cache-hit and cache-miss workloads.
        frame_calls: calls of the cached task on the DataFrame in the hashing workload.
        reps: processes per size for plain Python and cadenza (the median counts).
        prefect_reps: processes per size for Prefect's task workloads.
        startup_reps: processes for the start-up and import figures, every framework.
        timeout: seconds after which a workload process is stopped.
        server: sizes of the server workloads.
        tracking: sizes of the tracking and registry workloads.
        workloads: the workloads to run.
        frameworks: the frameworks to run them on.
    """

    mode: str
    sizes: tuple[int, int]
    memory_size: int
    prefect_memory_size: int
    prefect_cache_sizes: tuple[int, int]
    frame_calls: int
    reps: int
    prefect_reps: int
    startup_reps: int
    timeout: float
    server: ServerPlan
    tracking: TrackingPlan
    workloads: tuple[str, ...] = WORKLOADS
    frameworks: tuple[str, ...] = FRAMEWORKS

    def reps_for(self, framework: str) -> int:
        if framework == "mlflow":
            return self.tracking.mlflow_reps
        return self.prefect_reps if framework == "prefect" else self.reps

    def memory_size_for(self, framework: str) -> int:
        return self.prefect_memory_size if framework == "prefect" else self.memory_size

    def cache_sizes_for(self, framework: str) -> tuple[int, int]:
        return self.prefect_cache_sizes if framework == "prefect" else self.sizes

    @property
    def is_complete(self) -> bool:
        """Whether this is the full suite, whose figures go to RESULTS.md."""
        return (
            self.mode == "full"
            and set(self.workloads) == set(WORKLOADS)
            and set(self.frameworks) == set(FRAMEWORKS)
        )


FULL = Plan(
    mode="full",
    sizes=(1_000, 10_000),
    memory_size=100_000,
    prefect_memory_size=1_000,
    prefect_cache_sizes=(100, 1_000),
    frame_calls=10,
    reps=3,
    prefect_reps=1,
    startup_reps=3,
    timeout=900,
    server=ServerPlan(
        store=(100_000, 1_000_000, 10_000),
        compare_store=(10_000, 100_000, 10_000),
        requests=300,
        warmup=20,
        ingest=(10, 2_000),
        prefect_ingest=(2, 500),
        post_batches=20,
    ),
    tracking=TrackingPlan(
        points=10_000,
        mlflow_server_points=1_000,
        runs=1_000,
        searches=5,
        rounds=5,
        mlflow_reps=1,
    ),
)

QUICK = Plan(
    mode="quick",
    sizes=(100, 1_000),
    memory_size=10_000,
    prefect_memory_size=100,
    prefect_cache_sizes=(100, 1_000),
    frame_calls=3,
    reps=1,
    prefect_reps=1,
    startup_reps=1,
    timeout=300,
    server=ServerPlan(
        store=(10_000, 100_000, 10_000),
        compare_store=(2_000, 20_000, 2_000),
        requests=30,
        warmup=3,
        ingest=(2, 1_000),
        prefect_ingest=(1, 100),
        post_batches=4,
    ),
    tracking=TrackingPlan(
        points=1_000,
        mlflow_server_points=100,
        runs=100,
        searches=3,
        rounds=2,
        mlflow_reps=1,
    ),
)


def taking_part(frameworks: tuple[str, ...], workloads: tuple[str, ...]) -> tuple[str, ...]:
    """``frameworks`` less the competitors that none of ``workloads`` is compared with."""
    needed = {competitor(workload) for workload in workloads}
    return tuple(name for name in frameworks if name in ("plain", "cadenza") or name in needed)


def expand(names: list[str]) -> list[str]:
    """Workload names with each group name replaced by its workloads."""
    return [workload for name in names for workload in GROUPS.get(name, (name,))]
