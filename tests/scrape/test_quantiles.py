"""Histogram quantiles from bucket deltas: interpolation within a bucket, +Inf, resets."""

from __future__ import annotations

import pytest

from loadgate.scrape.quantiles import bucket_deltas, bucket_quantile

INF = float("inf")


def test_a_quantile_is_interpolated_within_its_bucket() -> None:
    # 10 observations at or below 0.1, 10 more between 0.1 and 0.2.
    buckets = ((0.1, 10.0), (0.2, 20.0), (INF, 20.0))
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.1)
    assert bucket_quantile(0.75, buckets) == pytest.approx(0.15)
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.05)


def test_a_rank_in_the_inf_bucket_gives_the_highest_finite_bound() -> None:
    buckets = ((0.1, 5.0), (0.2, 6.0), (INF, 10.0))
    assert bucket_quantile(0.99, buckets) == 0.2


def test_no_observations_give_no_quantile() -> None:
    assert bucket_quantile(0.5, ((0.1, 0.0), (INF, 0.0))) is None
    assert bucket_quantile(0.5, ()) is None


def test_deltas_are_the_observations_between_two_scrapes() -> None:
    before = ((0.1, 10.0), (0.2, 12.0), (INF, 12.0))
    now = ((0.1, 10.0), (0.2, 20.0), (INF, 22.0))
    deltas = bucket_deltas(now, before)
    assert deltas == ((0.1, 0.0), (0.2, 8.0), (INF, 10.0))
    # The second's observations alone: 8 between 0.1 and 0.2, 2 above.
    assert bucket_quantile(0.5, deltas) == pytest.approx(0.1 + 0.1 * 5 / 8)


def test_a_count_that_went_down_is_a_reset_and_counts_from_zero() -> None:
    before = ((0.1, 100.0), (INF, 100.0))
    now = ((0.1, 3.0), (INF, 4.0))
    assert bucket_deltas(now, before) == now


def test_changed_bounds_count_from_zero() -> None:
    assert bucket_deltas(((0.5, 1.0), (INF, 1.0)), ((0.1, 1.0), (INF, 1.0))) == (
        (0.5, 1.0),
        (INF, 1.0),
    )
