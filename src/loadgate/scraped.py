"""Plain data types for a target's own metrics, scraped during a run: engine → store → reports.

A scraped series is one Prometheus sample name with one set of labels, turned
into one number per second: a counter becomes its increase per second
(RATE), a gauge stays as read (GAUGE), a histogram becomes chosen quantiles
of the observations made in that second (QUANTILE, with a `quantile` label),
and a summary keeps the quantiles it exports (QUANTILE). A value is keyed by
the Unix second that ended when it was scraped, as a client's requests are
keyed by the second in which they finished.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Series kept per scraped URL; more are counted as left out, never stored.
DEFAULT_MAX_SERIES = 500


class SeriesKind(StrEnum):
    """What a scraped series' values are."""

    RATE = "rate"  # a counter's increase per second
    GAUGE = "gauge"  # the value as read
    QUANTILE = "quantile"  # a histogram's or summary's quantile (label `quantile`)


Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, order=True)
class SeriesKey:
    """One scraped series: where it came from, its sample name, its labels (sorted), its kind."""

    url: str
    name: str
    labels: Labels
    kind: SeriesKind

    @property
    def label_text(self) -> str:
        """'name{a="1",b="2"}', or 'name' without labels, as Prometheus writes a series."""
        if not self.labels:
            return self.name
        inner = ",".join(f'{key}="{value}"' for key, value in self.labels)
        return f"{self.name}{{{inner}}}"


@dataclass(frozen=True, kw_only=True)
class ScrapeSecond:
    """One scrape of one URL: its values, or why there are none (`error`, a gap).

    `series_dropped` counts the series of this scrape left out over the cap
    on series per URL; `dropped_example` names one of them.
    """

    url: str
    second: int
    values: Mapping[SeriesKey, float] = field(default_factory=dict)
    error: str = ""
    series_dropped: int = 0
    dropped_example: str = ""


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    """One scraped URL over a run: how many scrapes, which seconds were gaps, what was dropped."""

    url: str
    scrapes: int
    gap_seconds: tuple[int, ...]
    first_error: str
    series: int
    series_dropped: int
    dropped_example: str = ""


@dataclass(frozen=True, kw_only=True)
class SeriesStats:
    """A stored series and its values over the run: count, least, most, mean."""

    key: SeriesKey
    samples: int
    min_value: float
    max_value: float
    mean_value: float


@dataclass(frozen=True, kw_only=True)
class ChartBuckets:
    """The buckets of a chart's time axis: `count` of `bucket_s` from `first_second`."""

    first_second: int
    bucket_s: int
    count: int

    @property
    def stop_second(self) -> int:
        return self.first_second + self.bucket_s * self.count


@dataclass(frozen=True, kw_only=True)
class ScrapedRun:
    """What was scraped during a run, as the reports read it.

    `series` lists every stored series with its stats; `samples` holds the
    values per second of the series the findings asked for; `chart_samples`
    the values of the charted series averaged per bucket of a chart's axis,
    keyed by the bucket's first second (at most one value per bucket, so
    memory does not grow with the run's length).
    """

    targets: tuple[ScrapeTarget, ...] = ()
    series: tuple[SeriesStats, ...] = ()
    samples: Mapping[SeriesKey, Mapping[int, float]] = field(default_factory=dict)
    chart_samples: Mapping[SeriesKey, Mapping[int, float]] = field(default_factory=dict)

    @property
    def scraped(self) -> bool:
        return bool(self.targets)


NOT_SCRAPED = ScrapedRun()
