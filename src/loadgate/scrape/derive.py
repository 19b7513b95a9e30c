"""One URL's scrapes turned into values per second: rates, gauges, quantiles; series capped.

A Deriver keeps the previous scrape's counters and histogram buckets (one
number per series, so memory is bounded by the cap, not by the run's length)
and gives, for each new scrape, every series' value in the second that just
ended:

- a counter's rate is its increase over the time between the two scrapes
  (measured, not assumed to be 1 s); a counter that went down was reset (the
  target restarted) and counted from 0 since, as Prometheus' rate() takes it;
- a histogram gives the quantiles of QUANTILES of its observations in that
  time (bucket deltas), and its `_count`'s rate; no observations, no quantile;
- gauges and summaries' quantiles are taken as read.

The first scrape gives gauges only: rates need two. Series are admitted in
the order first seen (sorted within a scrape) up to `max_series` per URL;
later ones are counted as dropped, never stored, so an exporter with
thousands of series cannot flood the store.
"""

from __future__ import annotations

from collections.abc import Iterator

from loadgate.scrape.exposition import Buckets, Reading, SampleId
from loadgate.scrape.quantiles import bucket_deltas, bucket_quantile
from loadgate.scraped import DEFAULT_MAX_SERIES, ScrapeSecond, SeriesKey, SeriesKind

QUANTILES = (0.5, 0.95, 0.99)


def quantile_label(q: float) -> str:
    """'0.5', '0.95', '0.99': the `quantile` label, as summaries write it."""
    return f"{q:g}"


class Deriver:
    """Values per second from the successive scrapes of one URL."""

    def __init__(self, url: str, max_series: int = DEFAULT_MAX_SERIES) -> None:
        self.url = url
        self._max_series = max_series
        self._admitted: set[SeriesKey] = set()
        self._previous: Reading | None = None
        self._previous_at_s = 0.0

    def derive(self, reading: Reading, at_s: float, second: int) -> ScrapeSecond:
        """The values of `reading`, scraped at monotonic time `at_s`, for `second`."""
        previous = self._previous
        elapsed_s = at_s - self._previous_at_s
        values: dict[SeriesKey, float] = {}
        dropped: list[SeriesKey] = []
        found = self._values(reading, previous if elapsed_s > 0 else None, elapsed_s)
        for key, value in sorted(found, key=lambda pair: pair[0]):
            if key in self._admitted or len(self._admitted) < self._max_series:
                self._admitted.add(key)
                values[key] = value
            else:
                dropped.append(key)
        self._previous = reading
        self._previous_at_s = at_s
        return ScrapeSecond(
            url=self.url,
            second=second,
            values=values,
            series_dropped=len(dropped),
            dropped_example=dropped[0].label_text if dropped else "",
        )

    def _values(
        self, reading: Reading, previous: Reading | None, elapsed_s: float
    ) -> Iterator[tuple[SeriesKey, float]]:
        for (name, labels), value in reading.gauges.items():
            yield self._key(name, labels, SeriesKind.GAUGE), value
        for (name, labels), value in reading.quantiles.items():
            yield self._key(name, labels, SeriesKind.QUANTILE), value
        if previous is None:
            return
        for sample, value in reading.counters.items():
            before = previous.counters.get(sample)
            if before is not None:
                increase = value - before if value >= before else value
                yield self._key(*sample, SeriesKind.RATE), increase / elapsed_s
        for sample, buckets in reading.histograms.items():
            earlier = previous.histograms.get(sample)
            yield from self._quantiles(sample, bucket_deltas(buckets, earlier))

    def _quantiles(self, sample: SampleId, deltas: Buckets) -> Iterator[tuple[SeriesKey, float]]:
        name, labels = sample
        for q in QUANTILES:
            value = bucket_quantile(q, deltas)
            if value is not None:
                with_q = tuple(sorted((*labels, ("quantile", quantile_label(q)))))
                yield self._key(name, with_q, SeriesKind.QUANTILE), value

    def _key(self, name: str, labels: tuple[tuple[str, str], ...], kind: SeriesKind) -> SeriesKey:
        return SeriesKey(url=self.url, name=name, labels=labels, kind=kind)
