"""A distributed run's endpoints per region, when its workers ran in more than one region.

The run's own summary merges every region (the load the target saw); this
view splits it, so that a region whose users saw slower responses (a farther
network, another CDN edge) shows as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from loadgate.model import EndpointSecond, RunInfo
from loadgate.report.json_summary import endpoint_to_dict
from loadgate.report.terminal import endpoint_table
from loadgate.stats import RunSummary
from loadgate.stats.fold import RunFold
from loadgate.stats.summary import summarize_fold


def region_summaries(run: RunInfo, seconds: Iterable[EndpointSecond]) -> dict[str, RunSummary]:
    """One summary per region, by region name; empty unless there are at least two."""
    folds: dict[str, RunFold] = {}
    for second in seconds:
        folds.setdefault(second.region, RunFold()).add(second)
    if len(folds) < 2:
        return {}
    return {
        region: summarize_fold(run, fold, users_max=0) for region, fold in sorted(folds.items())
    }


def print_regions(summaries: Mapping[str, RunSummary], console: Console) -> None:
    for region, summary in summaries.items():
        table = endpoint_table(summary)
        table.title = Text(f"Latency (ms) per endpoint in region {region or '(none)'}")
        console.print(table)


def regions_to_dict(summaries: Mapping[str, RunSummary]) -> dict[str, Any]:
    """`regions` in the JSON summary: each region's endpoints and total."""
    return {
        region: {
            "endpoints": [endpoint_to_dict(endpoint) for endpoint in summary.endpoints],
            "total": endpoint_to_dict(summary.total),
        }
        for region, summary in summaries.items()
    }
