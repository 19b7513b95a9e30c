"""What a run shows while it runs: one rich Live view on a terminal, a plain line otherwise.

The view is drawn on the hub once a second, so it must stay cheap: its
percentiles come precomputed from the writer thread (RecentWindow.quantiles;
computing them here cost about 6 ms a second), which leaves rich's own
rendering, about 1.2 ms (median; measured with 20 endpoints), and the plain
line, 0.02 ms.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from loadgate.engine.writer import RecentWindow

PLAIN_EVERY_S = 5.0
SHOW_CURSOR = b"\x1b[?25h"
TICK_S = 1.0  # the run updates its view once a second
US_PER_MS = 1000.0


@dataclass(frozen=True, kw_only=True)
class Progress:
    """The state of a run at one moment, for the live view."""

    label: str
    elapsed_s: float
    run_time_s: int | None
    users: int
    requests_total: int
    failures_total: int
    recent: RecentWindow

    @property
    def remaining_s(self) -> float | None:
        if self.run_time_s is None:
            return None
        return max(0.0, self.run_time_s - self.elapsed_s)


ProgressSource = Callable[[], Progress]


class LiveView(Protocol):
    """Shows progress; `update` gets a function, called only when there is something to show."""

    def start(self) -> None: ...
    def update(self, progress: ProgressSource) -> None: ...
    def stop(self) -> None: ...
    def shows_soon(self) -> bool:
        """Whether an update within the next second or so will show progress."""
        ...

    def stop_now(self) -> None:
        """From another thread, as the process exits at once: take no lock."""
        ...


def format_ms(value_us: float) -> str:
    value_ms = value_us / US_PER_MS
    return f"{value_ms:.3f}" if value_ms < 100 else f"{value_ms:.0f}"


def format_clock(duration_s: float) -> str:
    minutes, seconds = divmod(int(duration_s), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _time_text(progress: Progress) -> str:
    if progress.run_time_s is None:
        return f"{format_clock(progress.elapsed_s)} elapsed"
    remaining = progress.remaining_s or 0.0
    return f"{format_clock(progress.elapsed_s)} elapsed, {format_clock(remaining)} left"


def _numbers(progress: Progress) -> list[tuple[str, str]]:
    recent = progress.recent
    error_rate = progress.failures_total / progress.requests_total if progress.requests_total else 0
    return [
        ("users", f"{progress.users:,}"),
        ("req/s", f"{progress.recent.rate_per_s:,.1f}"),
        ("p50 ms", format_ms(recent.quantile_us(0.5))),
        ("p95 ms", format_ms(recent.quantile_us(0.95))),
        ("p99 ms", format_ms(recent.quantile_us(0.99))),
        ("requests", f"{progress.requests_total:,}"),
        ("errors", f"{progress.failures_total:,} ({error_rate:.2%})"),
    ]


def render(progress: Progress) -> RenderableType:
    """The live panel: a progress line, then the numbers of the last few seconds."""
    header = Text.assemble((progress.label, "bold"), "  ", _time_text(progress))
    parts: list[RenderableType] = [header]
    if progress.run_time_s:
        parts.append(ProgressBar(total=progress.run_time_s, completed=progress.elapsed_s, width=60))
    table = Table(box=None, padding=(0, 2), show_edge=False)
    numbers = _numbers(progress)
    for heading, _ in numbers:
        table.add_column(heading, justify="right")
    table.add_row(*(value for _, value in numbers))
    parts.append(table)
    parts.append(Text(f"latencies over the last {progress.recent.seconds}s", style="dim"))
    return Group(*parts)


def plain_line(progress: Progress) -> str:
    numbers = " · ".join(f"{heading} {value}" for heading, value in _numbers(progress))
    return f"{progress.label} · {_time_text(progress)} · {numbers}"


class RichLiveView:
    """One rich Live region, redrawn on each update (no refresh thread of its own)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(console=console, auto_refresh=False, transient=True)

    def start(self) -> None:
        self._live.start()

    def update(self, progress: ProgressSource) -> None:
        self._live.update(render(progress()), refresh=True)

    def shows_soon(self) -> bool:
        return True

    def stop(self) -> None:
        self._live.stop()

    def stop_now(self) -> None:
        # Live.stop takes the console's lock, which the main thread may hold:
        # only give the cursor back (Live hides it), straight to the terminal.
        with contextlib.suppress(OSError, ValueError):
            os.write(self._console.file.fileno(), SHOW_CURSOR)


class PlainLineView:
    """One line every few seconds, for logs and pipes."""

    def __init__(
        self,
        console: Console,
        every_s: float = PLAIN_EVERY_S,
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._every_s = every_s
        self._clock_s = clock_s
        self._next_s = clock_s() + every_s

    def start(self) -> None:
        self._next_s = self._clock_s() + self._every_s

    def shows_soon(self) -> bool:
        # The window is computed with the next write and shown a tick later.
        return self._clock_s() + 2 * TICK_S >= self._next_s

    def update(self, progress: ProgressSource) -> None:
        now_s = self._clock_s()
        if now_s >= self._next_s:
            self._next_s = now_s + self._every_s
            self._console.print(Text(plain_line(progress())), highlight=False, soft_wrap=True)

    def stop(self) -> None:
        pass

    def stop_now(self) -> None:
        pass


class NoView:
    """--quiet."""

    def start(self) -> None:
        pass

    def shows_soon(self) -> bool:
        return False

    def update(self, progress: ProgressSource) -> None:
        pass

    def stop(self) -> None:
        pass

    def stop_now(self) -> None:
        pass


def make_live_view(console: Console | None) -> LiveView:
    """Rich on a terminal, plain lines elsewhere, nothing without a console."""
    if console is None:
        return NoView()
    if console.is_terminal:
        return RichLiveView(console)
    return PlainLineView(console)
