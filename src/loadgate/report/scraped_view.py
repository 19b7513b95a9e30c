"""What was scraped from the target, in the terminal (one line per URL) and in the JSON summary.

The JSON `scraped` lists each URL (scrapes, gap seconds and the first error,
series kept and left out) and every stored series with its stats over the
run (samples, min, max, mean); the values per second stay in the store
(`loadgate report` charts them).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from loadgate.scraped import DEFAULT_MAX_SERIES, ScrapedRun, ScrapeTarget


def target_line(target: ScrapeTarget, run_start_second: int) -> str:
    """'scraped URL: 111 series, 20 scrapes, no gaps', with its gaps and what was left out."""
    line = f"scraped {target.url}: {target.series} series, {target.scrapes} scrapes, "
    gaps = target.gap_seconds
    if gaps:
        line += (
            f"{len(gaps)} gap{'s' if len(gaps) != 1 else ''} from "
            f"{gaps[0] - run_start_second} s ({target.first_error})"
        )
    else:
        line += "no gaps"
    if target.series_dropped:
        line += (
            f"; {target.series_dropped} series over the cap of {DEFAULT_MAX_SERIES} left out, "
            f"such as {target.dropped_example}"
        )
    return line


def print_scraped(scraped: ScrapedRun, run_start_second: int, console: Console) -> None:
    for target in scraped.targets:
        style = "yellow" if target.gap_seconds or target.series_dropped else ""
        console.print(Text(target_line(target, run_start_second), style=style))


def scraped_to_dict(scraped: ScrapedRun, run_start_second: int) -> dict[str, Any]:
    """`scraped` in the JSON summary."""
    return {
        "targets": [
            {
                "url": t.url,
                "scrapes": t.scrapes,
                "series": t.series,
                "series_dropped": t.series_dropped,
                "dropped_example": t.dropped_example,
                "gap_seconds": [s - run_start_second for s in t.gap_seconds],
                "first_error": t.first_error,
            }
            for t in scraped.targets
        ],
        "series": [
            {
                "url": s.key.url,
                "name": s.key.name,
                "labels": dict(s.key.labels),
                "kind": s.key.kind.value,
                "samples": s.samples,
                "min": s.min_value,
                "max": s.max_value,
                "mean": s.mean_value,
            }
            for s in scraped.series
        ],
    }
