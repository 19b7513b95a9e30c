"""A finding: one thing a stored run shows, said in one sentence, with the numbers behind it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Severity(Enum):
    """How much a finding matters; ordered: info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Severity | None:
        """'warning' (any case) -> WARNING; None for anything else."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            return None


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Chart(Enum):
    """The report chart that shows a finding (the HTML report's chart ids)."""

    USERS = "chart-users"
    THROUGHPUT = "chart-throughput"
    LATENCY = "chart-latency"
    STATUS = "chart-status"
    UPSTREAM = "chart-upstream"  # scraped: upstream requests per client request, breakers
    CACHE = "chart-cache"
    TIMING = "chart-timing"


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What a finding says and what supports it.

    `kind` names the finding ('errors.gateway', 'saturation', 'rate_limit'...;
    thresholds match on its first part); `sentence` says it in plain words;
    `numbers` are the evidence (counts, rates, ms, shares as fractions);
    `from_s`..`to_s` the seconds since the run's start it covers (both
    included); `endpoint` the 'METHOD name' it concerns, None for the run as a
    whole; `chart` the chart that shows it.
    """

    kind: str
    severity: Severity
    sentence: str
    numbers: Mapping[str, float | int | str] = field(default_factory=dict)
    from_s: int
    to_s: int
    endpoint: str | None = None
    chart: Chart = Chart.STATUS

    @property
    def family(self) -> str:
        """The kind's first part: 'errors' for 'errors.gateway'."""
        return self.kind.partition(".")[0]


def by_severity(findings: list[Finding]) -> tuple[Finding, ...]:
    """Most severe first, then by time, then by kind: a stable order for every view."""
    return tuple(
        sorted(findings, key=lambda f: (-f.severity.rank, f.from_s, f.kind, f.endpoint or ""))
    )
