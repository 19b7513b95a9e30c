"""A run's stored seconds folded one at a time into per-endpoint totals, in bounded memory.

Summaries used to hold every second of a run and its decoded histogram (a
decoded histogram of our range is about 180 KB: an hour of 8 endpoints held
5 GB). Folding keeps one merged histogram and a few counters per endpoint,
whatever the run's length, and gives exactly what holding everything gave:
HDR histograms merge without loss, counts add up, and pieces of the same
(second, method, name) are simply added like any other second.

The same fold is what the store writes as a finished run's totals
(`EndpointTotals`), and reading those back gives a fold equal to the one
over the seconds, errors in the same order included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from loadgate.model import EndpointSecond, EndpointTotals, ErrorTally
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.histogram import LatencyHistogram

EndpointKey = tuple[str, str]  # (method, name)
ErrorKey = tuple[str, str, str]  # (method, name, message)


class EndpointFold:
    """One endpoint's seconds added up so far (mutable while a run is read)."""

    __slots__ = (
        "bytes_received",
        "errors",
        "failed",
        "failures",
        "first_second",
        "histogram",
        "last_second",
        "method",
        "name",
        "ok",
        "requests",
    )

    def __init__(self, method: str, name: str) -> None:
        self.method = method
        self.name = name
        self.requests = 0
        self.failures = 0
        self.bytes_received = 0
        self.ok: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        # message -> [count, first second, last second], in first-seen order
        self.errors: dict[str, list[int]] = {}
        self.histogram = LatencyHistogram()
        self.first_second: int | None = None
        self.last_second: int | None = None

    def add(self, second: EndpointSecond, buckets: BucketCounts) -> None:
        """Add one stored second (or piece of one) and its decoded histogram."""
        self.requests += second.requests
        self.failures += second.failures
        self.bytes_received += second.bytes_received
        self.ok.update(second.ok_status_counts)
        self.failed.update(second.failed_status_counts)
        self.histogram.add_buckets(buckets.ids, buckets.counts, buckets.out_of_range)
        at = second.second
        for message, count in second.errors.items():
            tally = self.errors.get(message)
            if tally is None:
                self.errors[message] = [count, at, at]
            else:
                tally[0] += count
                tally[1] = min(tally[1], at)
                tally[2] = max(tally[2], at)
        self._seen(at, at)

    def add_totals(self, totals: EndpointTotals) -> None:
        """Add another fold's totals (as stored when a run ended)."""
        self.requests += totals.requests
        self.failures += totals.failures
        self.bytes_received += totals.bytes_received
        self.ok.update(totals.ok_status_counts)
        self.failed.update(totals.failed_status_counts)
        self.histogram.merge(LatencyHistogram.decode(totals.histogram, totals.out_of_range))
        for message, tally in totals.errors.items():
            known = self.errors.setdefault(message, [0, tally.first_second, tally.last_second])
            known[0] += tally.count
            known[1] = min(known[1], tally.first_second)
            known[2] = max(known[2], tally.last_second)
        self._seen(totals.first_second, totals.last_second)

    def _seen(self, first: int, last: int) -> None:
        self.first_second = first if self.first_second is None else min(self.first_second, first)
        self.last_second = last if self.last_second is None else max(self.last_second, last)

    def totals(self) -> EndpointTotals:
        assert self.first_second is not None and self.last_second is not None, "nothing added"
        return EndpointTotals(
            method=self.method,
            name=self.name,
            requests=self.requests,
            failures=self.failures,
            bytes_received=self.bytes_received,
            histogram=self.histogram.encode(),
            first_second=self.first_second,
            last_second=self.last_second,
            ok_status_counts=dict(self.ok),
            failed_status_counts=dict(self.failed),
            errors={
                message: ErrorTally(count=count, first_second=first, last_second=last)
                for message, (count, first, last) in self.errors.items()
            },
            out_of_range=self.histogram.out_of_range,
        )


class RunFold:
    """Every endpoint of a run, folded second by second."""

    def __init__(self) -> None:
        self.endpoints: dict[EndpointKey, EndpointFold] = {}
        # Every distinct error in the order first seen: ties in the summary's
        # error list keep this order (as Counter.most_common does).
        self._error_order: dict[ErrorKey, None] = {}

    def add(self, second: EndpointSecond, buckets: BucketCounts | None = None) -> None:
        """Add one stored second; `buckets` is its decoded histogram, if already decoded."""
        if buckets is None:
            buckets = BucketCounts.decode(second.histogram, second.out_of_range)
        key = (second.method, second.name)
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            endpoint = self.endpoints[key] = EndpointFold(*key)
        endpoint.add(second, buckets)
        for message in second.errors:
            self._error_order.setdefault((second.method, second.name, message), None)

    @classmethod
    def of_totals(cls, totals: Iterable[EndpointTotals]) -> RunFold:
        """The fold a run's stored totals stand for, errors in the order the seconds had them.

        Seconds are folded in (second, name, method) order, so an error was
        first seen before another when its first second, then its endpoint's
        name and method, then its place in the endpoint's own list come first.
        """
        fold = cls()
        ranked: list[tuple[tuple[int, str, str, int], ErrorKey]] = []
        for total in totals:
            key = (total.method, total.name)
            endpoint = fold.endpoints.get(key)
            if endpoint is None:
                endpoint = fold.endpoints[key] = EndpointFold(*key)
            endpoint.add_totals(total)
            for index, (message, tally) in enumerate(total.errors.items()):
                rank = (tally.first_second, total.name, total.method, index)
                ranked.append((rank, (total.method, total.name, message)))
        for _rank, error in sorted(ranked):
            fold._error_order.setdefault(error, None)
        return fold

    @property
    def first_second(self) -> int | None:
        firsts = [e.first_second for e in self.endpoints.values() if e.first_second is not None]
        return min(firsts, default=None)

    @property
    def last_second(self) -> int | None:
        lasts = [e.last_second for e in self.endpoints.values() if e.last_second is not None]
        return max(lasts, default=None)

    def error_counts(self) -> Counter[ErrorKey]:
        """Every (method, name, message) with its count, in first-seen order."""
        counts: Counter[ErrorKey] = Counter()
        for method, name, message in self._error_order:
            counts[(method, name, message)] = self.endpoints[(method, name)].errors[message][0]
        return counts

    def totals(self) -> list[EndpointTotals]:
        """What the store keeps when the run ends: one EndpointTotals per endpoint."""
        return [endpoint.totals() for endpoint in self.endpoints.values()]


def fold_seconds(seconds: Iterable[EndpointSecond]) -> RunFold:
    fold = RunFold()
    for second in seconds:
        fold.add(second)
    return fold
