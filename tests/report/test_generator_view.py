"""The generator-stall line: shown only when a stall could have touched the latencies."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from loadgate.model import GeneratorSecond
from loadgate.report.generator_view import (
    GeneratorStalls,
    print_stall_line,
    stall_sections,
)
from loadgate.report.stored_run import StoredRun, write_stored_json
from loadgate.stats.summary import RunSummary
from tests.analysis.builders import shop_summary

START_S = 1_772_366_400


def _stalls(*stalls_ms: float) -> GeneratorStalls:
    return GeneratorStalls(
        [GeneratorSecond(second=START_S + i, stall_ms=ms) for i, ms in enumerate(stalls_ms)]
    )


def _with_p99(summary: RunSummary, p99_ms: float) -> RunSummary:
    return replace(summary, total=replace(summary.total, p99_ms=p99_ms))


def _printed(stalls: GeneratorStalls, summary: RunSummary) -> str:
    console = Console(record=True, width=300)
    print_stall_line(stalls, summary, console)
    return console.export_text()


def test_stalls_under_the_limits_print_nothing() -> None:
    assert _printed(_stalls(0.4, 2.5, 4.9), shop_summary()) == ""  # p99 1.5 s: limit 5 ms
    assert _printed(GeneratorStalls([]), shop_summary()) == ""  # a run from before


def test_a_stall_over_5_ms_is_one_line() -> None:
    text = _printed(_stalls(0.4, 12.5, 6.0), shop_summary())
    assert text.count("\n") == 1
    assert "paused up to 12.5 ms" in text
    assert "2 of 3 seconds over 5.0 ms" in text


def test_a_stall_over_1_percent_of_a_low_p99_is_shown() -> None:
    fast = _with_p99(shop_summary(), 200.0)  # 1%: 2 ms
    assert "paused up to 3.0 ms" in _printed(_stalls(0.5, 3.0), fast)
    faster = _with_p99(shop_summary(), 20.0)  # 1% is 0.2 ms, but never below 1 ms
    assert _printed(_stalls(0.5, 0.9), faster) == ""


def test_the_json_summary_has_the_maximum_and_the_stalled_seconds(tmp_path: Path) -> None:
    summary = shop_summary()
    stalls = _stalls(0.5, 7.25)
    write_stored_json(StoredRun(summary=summary, stalls=stalls), tmp_path / "s.json")
    generator = json.loads((tmp_path / "s.json").read_text())["generator"]
    assert generator["stall_ms_max"] == 7.25
    assert generator["stalled_seconds"] == [{"second": START_S + 1, "stall_ms": 7.25}]


def test_the_html_section_carries_the_line_escaped() -> None:
    assert stall_sections(_stalls(0.4, 2.5), shop_summary()) == []
    (section,) = stall_sections(_stalls(0.4, 12.5), shop_summary())
    assert "paused up to 12.5 ms" in section.body_html
    assert section.section_id == "generator"
