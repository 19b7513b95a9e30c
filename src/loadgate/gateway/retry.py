"""Retries of idempotent requests: which are allowed (a budget) and how long to wait (backoff)."""

from __future__ import annotations

import random

from loadgate.gateway.config import RetryPolicy

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class RetryBudget:
    """Envoy's retry budget: retries in flight stay under a share of requests in flight.

    Without a budget, retries multiply the load on an upstream exactly when it is
    failing; with it, at most `budget_percent` extra attempts are in flight (but
    always `min_concurrency`, so a quiet gateway can still retry).
    """

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None) -> None:
        self._policy = policy
        self._rng = rng or random.Random()
        self.active_requests = 0
        self.active_retries = 0

    def try_acquire(self) -> bool:
        """Take a retry slot if the budget has one; release it with `release()`."""
        allowed = max(
            float(self._policy.min_concurrency),
            self._policy.budget_percent / 100.0 * self.active_requests,
        )
        if self.active_retries < allowed:
            self.active_retries += 1
            return True
        return False

    def release(self) -> None:
        self.active_retries -= 1

    def backoff_s(self, retry_number: int) -> float:
        """Full jitter: uniform(0, min(max, base * 2^(n-1))) for the n-th retry."""
        ceiling_ms = min(
            self._policy.backoff_max_ms,
            self._policy.backoff_base_ms * (2 ** max(0, retry_number - 1)),
        )
        return self._rng.uniform(0.0, ceiling_ms) / 1000.0
