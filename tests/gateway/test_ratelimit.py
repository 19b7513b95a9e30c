"""Token buckets and retry budgets, on a fake clock."""

from __future__ import annotations

import random

from loadgate.gateway.config import Limit, RetryPolicy
from loadgate.gateway.ratelimit import LocalLimiter
from loadgate.gateway.retry import RetryBudget

LIMIT = Limit(rate_per_s=10.0, burst=5)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = Clock()
    limiter = LocalLimiter(clock)
    decisions = [limiter.take("k", LIMIT) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert decisions[5].retry_after_s == 0.1
    clock.now += 0.1
    assert limiter.take("k", LIMIT).allowed
    assert not limiter.take("k", LIMIT).allowed
    assert limiter.take("other", LIMIT).allowed


def test_headers() -> None:
    limiter = LocalLimiter(Clock())
    for _ in range(5):
        limiter.take("k", LIMIT)
    headers = dict(limiter.take("k", LIMIT).headers())
    assert headers[b"RateLimit-Limit"] == b"5"
    assert headers[b"RateLimit-Remaining"] == b"0"
    assert headers[b"RateLimit-Reset"] == b"1"
    assert headers[b"Retry-After"] == b"1"


def test_retry_budget_share_and_minimum() -> None:
    budget = RetryBudget(RetryPolicy(budget_percent=20.0, min_concurrency=2))
    budget.active_requests = 50
    granted = sum(budget.try_acquire() for _ in range(20))
    assert granted == 10
    budget.release()
    assert budget.try_acquire()
    quiet = RetryBudget(RetryPolicy(budget_percent=20.0, min_concurrency=2))
    quiet.active_requests = 1
    assert [quiet.try_acquire() for _ in range(3)] == [True, True, False]


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(backoff_base_ms=25.0, backoff_max_ms=100.0)
    budget = RetryBudget(policy, random.Random(7))
    samples = [budget.backoff_s(n) for n in (1, 2, 3, 4, 5, 6) for _ in range(50)]
    assert all(0.0 <= s <= 0.1 for s in samples)
    assert max(budget.backoff_s(1) for _ in range(200)) <= 0.025
    assert len(set(samples)) > 100
