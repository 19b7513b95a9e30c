"""Faults an upstream service can be told to show: latency, errors, stalls, down, slow body.

A fault is a frozen value read from the config (`[upstreams.NAME.fault]`) or
from the admin API's JSON; `FaultState` is the live copy inside the upstream
process that decides, request by request, what the fault does.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadgate.gateway.fields import Table

DISTRIBUTIONS = ("fixed", "uniform", "normal", "exponential", "lognormal")
# Keys each latency distribution takes, in the order they are documented.
DISTRIBUTION_KEYS: dict[str, tuple[str, ...]] = {
    "fixed": ("ms",),
    "uniform": ("min_ms", "max_ms"),
    "normal": ("mean_ms", "stddev_ms"),
    "exponential": ("mean_ms",),
    "lognormal": ("median_ms", "sigma"),
}
MAX_LATENCY_MS = 600_000.0


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Added latency: a distribution and its parameters (milliseconds, sigma unitless)."""

    distribution: str = "fixed"
    ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    stddev_ms: float = 0.0
    median_ms: float = 0.0
    sigma: float = 0.0

    def sample_ms(self, rng: random.Random) -> float:
        """One draw, never negative."""
        match self.distribution:
            case "fixed":
                value = self.ms
            case "uniform":
                value = rng.uniform(self.min_ms, self.max_ms)
            case "normal":
                value = rng.gauss(self.mean_ms, self.stddev_ms)
            case "exponential":
                value = rng.expovariate(1.0 / self.mean_ms) if self.mean_ms > 0 else 0.0
            case _:
                value = self.median_ms * math.exp(rng.gauss(0.0, self.sigma))
        return max(0.0, min(value, MAX_LATENCY_MS))

    def to_dict(self) -> dict[str, Any]:
        keys = DISTRIBUTION_KEYS[self.distribution]
        return {"distribution": self.distribution, **{key: getattr(self, key) for key in keys}}


@dataclass(frozen=True, kw_only=True)
class Fault:
    """What an upstream does wrong; the default value does nothing wrong."""

    latency: Latency | None = None
    error_rate: float = 0.0
    error_status: int = 500
    stall_every_s: float = 0.0
    stall_for_s: float = 0.0
    down: bool = False
    slow_body_bytes_per_s: float = 0.0

    @property
    def active(self) -> bool:
        return self != Fault()

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency": self.latency.to_dict() if self.latency else None,
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "stall_every_s": self.stall_every_s,
            "stall_for_s": self.stall_for_s,
            "down": self.down,
            "slow_body_bytes_per_s": self.slow_body_bytes_per_s,
        }


def parse_latency(table: Table) -> Latency:
    """Read `{distribution = "...", <its parameters>}`."""
    distribution = table.string("distribution", "fixed", choices=DISTRIBUTIONS)
    keys = DISTRIBUTION_KEYS[distribution]
    values = {key: table.number(key, low=0.0, high=MAX_LATENCY_MS) for key in keys}
    table.finish()
    if distribution == "uniform" and values["min_ms"] > values["max_ms"]:
        raise table.fail("max_ms", f"a number of at least min_ms ({values['min_ms']:g})")
    return Latency(distribution=distribution, **values)


def parse_fault(table: Table) -> Fault:
    """Read a fault table; `latency_ms = N` is short for a fixed latency of N ms."""
    latency: Latency | None = None
    if table.has("latency_ms") and table.has("latency"):
        raise table.fail("latency_ms", "either latency_ms or latency, not both")
    if table.has("latency_ms"):
        latency = Latency(ms=table.number("latency_ms", low=0.0, high=MAX_LATENCY_MS))
    elif table.has("latency"):
        latency = parse_latency(table.table("latency"))
    every_s = table.number("stall_every_s", 0.0, low=0.0, high=86_400.0)
    for_s = table.number("stall_for_s", 0.0, low=0.0, high=86_400.0)
    if (every_s > 0) != (for_s > 0):
        raise table.fail("stall_for_s", "stall_every_s and stall_for_s both set, or neither")
    if every_s and for_s >= every_s:
        raise table.fail("stall_for_s", f"a number below stall_every_s ({every_s:g})", for_s)
    fault = Fault(
        latency=latency,
        error_rate=table.number("error_rate", 0.0, low=0.0, high=1.0),
        error_status=table.integer("error_status", 500, low=400, high=599),
        stall_every_s=every_s,
        stall_for_s=for_s,
        down=table.boolean("down", False),
        slow_body_bytes_per_s=table.number("slow_body_bytes_per_s", 0.0, low=0.0),
    )
    table.finish()
    return fault


def fault_from_json(data: Mapping[str, Any], upstream: str) -> Fault:
    """Read a fault sent to the admin API (same keys as the config file)."""
    return parse_fault(Table(data, f"faults.{upstream}", source="fault"))


class FaultState:
    """The fault an upstream shows right now, and the draws it makes per request."""

    def __init__(self, fault: Fault, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self.fault = fault
        self.since = time.monotonic()

    def set(self, fault: Fault) -> None:
        self.fault = fault
        # A new stall schedule starts now, so "every P s" is counted from the change.
        self.since = time.monotonic()

    def delay_s(self) -> float:
        """Added latency for one request, plus what is left of a stall in progress."""
        fault = self.fault
        delay_s = fault.latency.sample_ms(self._rng) / 1000.0 if fault.latency else 0.0
        if fault.stall_every_s > 0:
            phase_s = (time.monotonic() - self.since) % fault.stall_every_s
            # The stall sits at the end of each period, so a fresh fault starts healthy.
            stall_start_s = fault.stall_every_s - fault.stall_for_s
            if phase_s >= stall_start_s:
                delay_s += fault.stall_every_s - phase_s
        return delay_s

    async def delay(self) -> None:
        """Hold one request for `delay_s`: never less, so an injected 30 ms is at least 30 ms.

        uvloop's timers count from the loop's cached clock, which can lag the
        real one, so a sleep alone may end a fraction of a millisecond early.
        """
        delay_s = self.delay_s()
        if delay_s <= 0:
            return
        deadline_s = time.monotonic() + delay_s
        await asyncio.sleep(delay_s)
        while (remaining_s := deadline_s - time.monotonic()) > 0:
            await asyncio.sleep(remaining_s)

    def error_status(self) -> int | None:
        """The status to fail this request with, or None to serve it."""
        rate = self.fault.error_rate
        if rate > 0 and (rate >= 1.0 or self._rng.random() < rate):
            return self.fault.error_status
        return None
