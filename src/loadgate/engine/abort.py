"""Stopping a run early: a check called once a second on its last seconds (abort-on-fail)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

from loadgate.model import EndpointSecond


class AbortCheck(Protocol):
    """loadgate.analysis.thresholds_window.AbortCheck, or anything shaped like it."""

    @property
    def window_s(self) -> int: ...

    def __call__(self, seconds: Sequence[EndpointSecond], now_s: int | None = None) -> str | None:
        """The reason to stop the run now, or None to go on."""
        ...


class TrailingSeconds:
    """The endpoint-seconds of the last `window_s` whole seconds, as they arrive."""

    def __init__(self, window_s: int) -> None:
        self._window_s = window_s
        self._seconds: deque[EndpointSecond] = deque()

    def add(self, seconds: Sequence[EndpointSecond]) -> None:
        self._seconds.extend(seconds)

    def last(self, current_second: int) -> list[EndpointSecond]:
        """Those of the `window_s` seconds before `current_second` (older ones are dropped)."""
        first = current_second - self._window_s
        while self._seconds and self._seconds[0].second < first:
            self._seconds.popleft()
        return [s for s in self._seconds if s.second < current_second]
