"""Reads of consecutive ranges of one run joined into the read of their union.

The live view (web/live_read.py) folds a run's settled seconds once and its
latest ones each tick; each fold gives a Timeline, a RunSeries or a
RunParts of its range. Joined here, they are what one fold of the whole
range gives: an endpoint (or a status, a part) missing from a range has
zero counts and no percentiles in its buckets there, and every list keeps
the order the folds give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loadgate.model import Part
from loadgate.stats.buckets import quantiles_us
from loadgate.stats.fold import EndpointKey
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.parts import (
    PART_QUANTILES,
    EndpointParts,
    PartBuckets,
    PartLatency,
    RunParts,
)
from loadgate.stats.series import EndpointSeries, RunSeries, SecondPoint
from loadgate.stats.summary import US_PER_MS
from loadgate.stats.timeline import EndpointTimeline, Timeline

PartKey = tuple[str, str, Part]  # (method, name, part)
# The whole read's percentiles of each part, as stats.parts gives them.


def joined_timeline(parts: Sequence[Timeline]) -> Timeline:
    """Timelines of consecutive ranges of one run, on the same bucket width, as one.

    An endpoint (or a status) missing from a part has zero counts and no
    percentiles in its buckets, as a fold of the whole range gives it.
    """
    width_s = parts[0].bucket_s
    keys = sorted(
        {(e.method, e.name) for part in parts for e in part.endpoints},
        key=lambda key: (key[1], key[0]),
    )
    by_key = [{(e.method, e.name): e for e in part.endpoints} for part in parts]
    return Timeline(
        start_second=parts[0].start_second,
        offsets_s=tuple(offset for part in parts for offset in part.offsets_s),
        users=tuple(level for part in parts for level in part.users),
        endpoints=tuple(
            _joined_endpoint(key, [(ends.get(key), len(p.offsets_s)) for ends, p in
                                   zip(by_key, parts, strict=True)], width_s)
            for key in keys
        ),
        total=_joined_endpoint(
            (parts[0].total.method, parts[0].total.name),
            [(part.total, len(part.offsets_s)) for part in parts],
            width_s,
        ),
        bucket_s=width_s,
    )  # fmt: skip


def _joined_endpoint(
    key: EndpointKey, pieces: Sequence[tuple[EndpointTimeline | None, int]], width_s: int
) -> EndpointTimeline:
    """One endpoint's series over the parts; `pieces` are (its series or None, buckets)."""
    # One-second buckets count in whole numbers; wider ones are averages (floats),
    # also in a part made of one short bucket (the fold of that part alone gives ints).
    number = int if width_s == 1 else float

    def counts(values: list[tuple[float, ...] | None]) -> tuple[float, ...]:
        return tuple(
            number(value)
            for (_, buckets), part in zip(pieces, values, strict=True)
            for value in (part if part is not None else (0,) * buckets)
        )

    def levels(values: list[tuple[float | None, ...] | None]) -> tuple[float | None, ...]:
        return tuple(
            value
            for (_, buckets), part in zip(pieces, values, strict=True)
            for value in (part if part is not None else (None,) * buckets)
        )

    series = [piece for piece, _ in pieces]
    statuses = sorted({status for s in series if s is not None for status in s.status_per_s})
    return EndpointTimeline(
        method=key[0],
        name=key[1],
        ok_per_s=counts([s.ok_per_s if s else None for s in series]),
        failed_per_s=counts([s.failed_per_s if s else None for s in series]),
        p50_ms=levels([s.p50_ms if s else None for s in series]),
        p95_ms=levels([s.p95_ms if s else None for s in series]),
        p99_ms=levels([s.p99_ms if s else None for s in series]),
        status_per_s={
            status: counts([s.status_per_s.get(status) if s else None for s in series])
            for status in statuses
        },
    )


def joined_series(parts: Sequence[RunSeries]) -> RunSeries:
    """Series of consecutive ranges of one run as one (the users are the last part's)."""
    points: dict[EndpointKey, dict[int, SecondPoint]] = {}
    for part in parts:
        for endpoint in part.endpoints:
            points.setdefault((endpoint.method, endpoint.name), {}).update(endpoint.points)
    keys = sorted(points, key=lambda key: (key[1], key[0]))
    return RunSeries(
        start_second=parts[-1].start_second,
        endpoints=tuple(
            EndpointSeries(method=m, name=n, points=dict(sorted(points[(m, n)].items())))
            for m, n in keys
        ),
        users=parts[-1].users,
    )


def joined_parts(
    parts: Sequence[RunParts], histograms: Mapping[PartKey, LatencyHistogram]
) -> RunParts:
    """Parts of consecutive ranges as one; `histograms`: each part's, merged over all of them."""
    keys = sorted(
        {(e.method, e.name, part) for run in parts for e in run.endpoints for part in e.buckets},
        key=lambda key: (key[1], key[0], key[2].value),
    )
    by_endpoint = [{(e.method, e.name): e for e in run.endpoints} for run in parts]
    totals: dict[EndpointKey, dict[Part, PartLatency]] = {}
    buckets: dict[EndpointKey, dict[Part, PartBuckets]] = {}
    for method, name, part in keys:
        requests: list[int] = []
        p95_ms: list[float | None] = []
        for run, endpoints in zip(parts, by_endpoint, strict=True):
            endpoint = endpoints.get((method, name))
            piece = endpoint.buckets.get(part) if endpoint is not None else None
            requests.extend(piece.requests if piece else (0,) * len(run.offsets_s))
            p95_ms.extend(piece.p95_ms if piece else (None,) * len(run.offsets_s))
        p50_us, p95_us, p99_us = quantiles_us(
            histograms[method, name, part].recorded_buckets(), PART_QUANTILES
        )
        totals.setdefault((method, name), {})[part] = PartLatency(
            requests=sum(requests),
            p50_ms=p50_us / US_PER_MS,
            p95_ms=p95_us / US_PER_MS,
            p99_ms=p99_us / US_PER_MS,
        )
        buckets.setdefault((method, name), {})[part] = PartBuckets(
            requests=tuple(requests), p95_ms=tuple(p95_ms)
        )
    return RunParts(
        bucket_s=parts[0].bucket_s,
        offsets_s=tuple(offset for run in parts for offset in run.offsets_s),
        users=tuple(level for run in parts for level in run.users),
        endpoints=tuple(
            EndpointParts(method=m, name=n, totals=totals[m, n], buckets=buckets[m, n])
            for m, n in totals
        ),
    )
