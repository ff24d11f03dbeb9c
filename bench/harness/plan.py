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
)
FRAMEWORKS = ("plain", "cadenza", "prefect")
# Names that stand for several workloads in ``--only``.
GROUPS = {"caching": ("cache_hit", "cache_miss", "hashing")}


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
    workloads: tuple[str, ...] = WORKLOADS
    frameworks: tuple[str, ...] = FRAMEWORKS

    def reps_for(self, framework: str) -> int:
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
)


def expand(names: list[str]) -> list[str]:
    """Workload names with each group name replaced by its workloads."""
    return [workload for name in names for workload in GROUPS.get(name, (name,))]
