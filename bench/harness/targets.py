"""cadenza's performance targets, checked against the measured figures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A figure cadenza must stay under (or, with ``at_least``, reach)."""

    limit: float
    text: str
    at_least: bool = False

    def met_by(self, value: float | None) -> bool | None:
        """True or False, or None when there is no figure to judge."""
        if value is None:
            return None
        return value >= self.limit if self.at_least else value < self.limit


SEQUENTIAL_OVERHEAD = Target(30.0, "< 30 µs")
ONE_TASK_FLOW = Target(0.5, "< 0.5 s")
IMPORT = Target(150.0, "< 150 ms")
PEAK_MEMORY = Target(300.0, "< 300 MB")
HASH_FRAME = Target(0.5, "< 0.5 s")
SERVER_TIME_P99 = Target(100.0, "p99 < 100 ms")
INGESTION = Target(5_000.0, ">= 5,000 events/s", at_least=True)
# 10,000 single log_metric points in a run "well under a second", durable.
LOG_METRIC = Target(1.0, "< 1 s")
