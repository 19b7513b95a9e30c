"""The live view's plain form, and which view a console gets."""

from __future__ import annotations

import io

from rich.console import Console

from loadgate.engine.live import (
    NoView,
    PlainLineView,
    Progress,
    RichLiveView,
    make_live_view,
    plain_line,
    render,
)
from loadgate.engine.writer import RecentWindow
from loadgate.stats import LatencyHistogram


def progress(
    elapsed_s: float, run_time_s: int | None = 30, label: str = "run 7 · browse"
) -> Progress:
    histogram = LatencyHistogram()
    for value_us in (300, 300, 5_000, 50_000):
        histogram.record_us(value_us)
    return Progress(
        label=label,
        elapsed_s=elapsed_s,
        run_time_s=run_time_s,
        users=20,
        requests_total=1234,
        failures_total=12,
        recent=RecentWindow(seconds=5, requests=500, failures=5, histogram=histogram),
    )


def test_the_plain_line_has_time_users_rate_quantiles_and_errors() -> None:
    line = plain_line(progress(12.0))
    assert line.startswith("run 7 · browse · 0:12 elapsed, 0:18 left")
    for part in ("users 20", "req/s 100.0", "p50 ms 0.300", "p99 ms 50.0", "errors 12 (0.97%)"):
        assert part in line
    assert "left" not in plain_line(progress(12.0, run_time_s=None))


def test_plain_lines_come_every_few_seconds() -> None:
    out = io.StringIO()
    now_s = [0.0]
    view = PlainLineView(Console(file=out, width=200), every_s=5.0, clock_s=lambda: now_s[0])
    view.start()
    asked = []
    for elapsed_s in range(12):
        now_s[0] = float(elapsed_s)
        view.update(lambda: asked.append(now_s[0]) or progress(now_s[0]))
    assert out.getvalue().count("run 7") == 2
    assert asked == [5.0, 10.0], "the progress is only computed when it is shown"


def test_a_run_name_is_shown_as_written_in_both_views() -> None:
    label = "run 7 · [/b]nightly [red]"
    out = io.StringIO()
    view = PlainLineView(Console(file=out, width=200), every_s=0.0)
    view.update(lambda: progress(3.0, label=label))
    Console(file=out, width=200).print(render(progress(3.0, label=label)))
    assert out.getvalue().count(label) == 2


def test_the_rich_view_renders() -> None:
    out = io.StringIO()
    Console(file=out, width=120).print(render(progress(3.0)))
    assert "p95 ms" in out.getvalue()


def test_a_view_per_console() -> None:
    assert isinstance(make_live_view(None), NoView)
    assert isinstance(make_live_view(Console(file=io.StringIO())), PlainLineView)
    assert isinstance(
        make_live_view(Console(file=io.StringIO(), force_terminal=True)), RichLiveView
    )
