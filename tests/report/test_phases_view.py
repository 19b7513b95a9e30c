"""The timing phases table in the terminal: shown only with phases, names as text."""

from __future__ import annotations

from rich.console import Console

from loadgate.model import Part, PartSecond, UsersSample
from loadgate.report.phases_view import print_phases
from loadgate.stats.parts import NO_PARTS, PartsFold, RunParts
from tests.builders import START_S, histogram_of

NAME = "/v1/x?q=[red]x[/red]"


def printed(parts: RunParts) -> str:
    console = Console(record=True, width=200)
    print_phases(parts, console)
    return console.export_text()


def folded(values_us: dict[Part, list[int]]) -> RunParts:
    fold = PartsFold(range(START_S, START_S + 2), 1)
    for part, values in values_us.items():
        histogram = histogram_of(values).encode()
        fold.add(PartSecond(second=START_S, method="GET", name=NAME, part=part,
                            requests=len(values), histogram=histogram))  # fmt: skip
    return fold.parts(START_S, [UsersSample(second=START_S, users=1)])


def test_nothing_is_printed_without_phases() -> None:
    assert printed(NO_PARTS) == ""
    assert printed(folded({Part.UPSTREAM: [1_000], Part.GATEWAY: [500]})) == ""


def test_each_phase_has_its_percentiles_and_the_share_of_new_connections() -> None:
    text = printed(
        folded({
            Part.CONNECT: [200],
            Part.TLS: [3_000],
            Part.TTFB: [10_000] * 3 + [50_000],
            Part.DOWNLOAD: [100] * 4,
        })
    )  # fmt: skip
    assert "Timing phases" in text
    row = next(line for line in text.splitlines() if "/v1/x" in line)
    assert NAME in row, "a name is text, never markup"
    # HDR gives each value as its bucket's highest equivalent: 50.015 for 50 ms.
    for shown in ("0.200 / 0.200 / 0.200", "3.00", "10.0", "50.0", "0.100", "25.0%"):
        assert shown in row, (shown, row)


def test_a_plain_http_endpoint_shows_no_tls_and_kept_alive_requests_no_connect() -> None:
    text = printed(folded({Part.TTFB: [10_000] * 4, Part.DOWNLOAD: [0] * 4}))
    row = next(line for line in text.splitlines() if "/v1/x" in line)
    cells = [cell.strip() for cell in row.split("│")]
    assert cells[3:5] == ["-", "-"], row
    assert "0.0%" in row
