"""A line of the results table: one figure for each framework, and cadenza's target."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.targets import Target


@dataclass
class Row:
    """One measured figure across the frameworks.

    Attributes:
        key: a stable identifier for the machine-readable output.
        label: what the figure is, for people.
        unit: the unit of ``values``.
        values: framework name -> figure, None where not measured or failed.
        notes: framework name -> a few words shown next to its figure.
        target: cadenza's target for this figure, if it has one.
    """

    key: str
    label: str
    unit: str
    values: dict[str, float | None]
    notes: dict[str, str] = field(default_factory=dict)
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        """cadenza / prefect, where both figures are there and positive."""
        cadenza, prefect = self.values.get("cadenza"), self.values.get("prefect")
        if cadenza is None or prefect is None or cadenza <= 0 or prefect <= 0:
            return None
        return cadenza / prefect

    @property
    def target_met(self) -> bool | None:
        if self.target is None:
            return None
        return self.target.met_by(self.values.get("cadenza"))

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "values": self.values,
            "notes": self.notes,
            "ratio_cadenza_to_prefect": self.ratio,
            "target": None if self.target is None else self.target.text,
            "target_met": self.target_met,
        }


@dataclass
class RecordingRow:
    """Task runs found in a framework's database after its processes exited."""

    case: str
    counts: dict[str, tuple[int, int]]  # framework -> (recorded, executed)

    def as_dict(self) -> dict[str, object]:
        return {
            "case": self.case,
            "counts": {
                name: {"recorded": recorded, "executed": executed}
                for name, (recorded, executed) in self.counts.items()
            },
        }
