"""The cache and timing table in the terminal: shown only with data, names as text."""

from __future__ import annotations

from rich.console import Console

from loadgate.model import Part, PartSecond, UsersSample
from loadgate.report.parts_view import print_parts
from loadgate.stats.parts import NO_PARTS, PartsFold
from tests.builders import START_S, histogram_of


def printed(parts: object) -> str:
    console = Console(record=True, width=200)
    print_parts(parts, console)  # type: ignore[arg-type]
    return console.export_text()


def test_nothing_is_printed_without_parts() -> None:
    assert printed(NO_PARTS) == ""


def test_the_rate_limit_counts_alone_print_nothing() -> None:
    fold = PartsFold(range(START_S, START_S + 2), 1)
    for part in (Part.KEYS, Part.UNHINTED_429):
        fold.add(PartSecond(second=START_S, method="GET", name="/s", part=part, requests=2,
                            histogram=histogram_of([]).encode()))  # fmt: skip
    assert printed(fold.parts(START_S, [UsersSample(second=START_S, users=1)])) == ""


def test_each_endpoint_has_its_ratio_latencies_and_share() -> None:
    fold = PartsFold(range(START_S, START_S + 2), 1)
    for part, values in ((Part.CACHE_HIT, [500] * 3), (Part.CACHE_MISS, [20_000]),
                         (Part.UPSTREAM, [15_000]), (Part.GATEWAY, [5_000])):  # fmt: skip
        histogram = histogram_of(values).encode()
        fold.add(PartSecond(second=START_S, method="GET", name="/s?q=[red]x[/red]", part=part,
                            requests=len(values), histogram=histogram))  # fmt: skip
    text = printed(fold.parts(START_S, [UsersSample(second=START_S, users=1)]))
    assert "Cache and upstream time" in text
    row = next(line for line in text.splitlines() if "/s?q=" in line)
    assert "/s?q=[red]x[/red]" in row, "a name is text, never markup"
    # HDR gives each value as its bucket's highest equivalent: 20.015 for 20 ms.
    for shown in ("75.0%", "0.500", "20.0", "15.0", "5.00", "25%"):
        assert shown in row, (shown, row)
