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
        competitor: the framework cadenza's figure is divided by in ``ratio``.
    """

    key: str
    label: str
    unit: str
    values: dict[str, float | None]
    notes: dict[str, str] = field(default_factory=dict)
    target: Target | None = None
    competitor: str = "prefect"

    @property
    def ratio(self) -> float | None:
        """cadenza / the competitor, where both figures are there and positive."""
        cadenza, other = self.values.get("cadenza"), self.values.get(self.competitor)
        if cadenza is None or other is None or cadenza <= 0 or other <= 0:
            return None
        return cadenza / other

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
            "competitor": self.competitor,
            f"ratio_cadenza_to_{self.competitor}": self.ratio,
            "target": None if self.target is None else self.target.text,
            "target_met": self.target_met,
        }


@dataclass
class RecordingRow:
    """Task runs (or metric points) found in a framework's database after its processes
    exited, against those executed (or logged)."""

    case: str
    counts: dict[str, tuple[int, int]]  # framework -> (recorded, executed)
    what: str = "task runs"

    def as_dict(self) -> dict[str, object]:
        return {
            "case": self.case,
            "what": self.what,
            "counts": {
                name: {"recorded": recorded, "executed": executed}
                for name, (recorded, executed) in self.counts.items()
            },
        }
