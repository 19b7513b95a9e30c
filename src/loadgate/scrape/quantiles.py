"""Quantiles of a Prometheus histogram's observations between two scrapes, from its buckets.

A bucket counts the observations at or below its upper bound (cumulative),
so the observations of one interval are the bucket-by-bucket difference of
two scrapes. Within the bucket holding the wanted rank, observations are
taken as spread evenly between its bounds (linear interpolation, as
Prometheus' histogram_quantile does); a rank in the +Inf bucket gives the
highest finite bound, the most a histogram can say.
"""

from __future__ import annotations

import math

from loadgate.scrape.exposition import Buckets


def bucket_deltas(now: Buckets, before: Buckets | None) -> Buckets:
    """The observations made since `before` (same bounds); all of `now` after a reset.

    A count that went down, or bounds that changed, mean the target restarted
    (or was replaced): what it counted since is all of `now`.
    """
    if before is None or [b for b, _ in before] != [b for b, _ in now]:
        return now
    deltas = tuple(
        (bound, count - old) for (bound, count), (_, old) in zip(now, before, strict=True)
    )
    if any(count < 0 for _, count in deltas):
        return now
    return deltas


def bucket_quantile(q: float, buckets: Buckets) -> float | None:
    """The q-quantile (0–1) of cumulative `buckets` (ascending bounds, +Inf last); None if empty."""
    if not buckets:
        return None
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    below = 0.0
    lower = 0.0
    for index, (upper, cumulative) in enumerate(buckets):
        if cumulative >= rank and cumulative > below:
            if math.isinf(upper):
                return buckets[index - 1][0] if index > 0 else None
            if index == 0 and upper <= 0:
                return upper
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        below = cumulative
        lower = upper
    return None
