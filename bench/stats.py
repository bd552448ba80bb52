"""Figures as data: samples, median, p95, ratios, and goals marked met or not met."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample list."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Row:
    """One subject's samples for one figure, or why it has none."""

    subject: str
    samples: list[float] = field(default_factory=list)
    note: str = ""
    missing: str = ""  # non-empty: "not measured: …"
    counts: dict[str, int] = field(default_factory=dict)  # e.g. breakpoint hits

    @property
    def median(self) -> float | None:
        """Median of the samples, None when there are none."""
        return statistics.median(self.samples) if self.samples else None

    def tail(self, higher_is_better: bool) -> float | None:
        """The slow tail: p95 for latencies, p5 for rates."""
        if not self.samples:
            return None
        return percentile(self.samples, 5 if higher_is_better else 95)


@dataclass
class Figure:
    """A measured quantity with every subject measured in the same run."""

    key: str
    title: str
    unit: str
    rows: list[Row]
    reference: str = "HandlerLens"  # ratios are row median ÷ this row's median
    higher_is_better: bool = False
    notes: list[str] = field(default_factory=list)

    def row(self, subject: str) -> Row | None:
        """The row of `subject`, if present."""
        return next((r for r in self.rows if r.subject == subject), None)

    def ratio(self, subject: str, over: str | None = None) -> float | None:
        """Median of `subject` ÷ median of `over` (default: the reference row)."""
        top, bottom = self.row(subject), self.row(over or self.reference)
        if top is None or bottom is None or top.median is None or not bottom.median:
            return None
        return top.median / bottom.median


@dataclass
class Goal:
    """A number an issue names, with what this run measured; met is None when not measured."""

    issue: int
    text: str
    measured: str
    met: bool | None
