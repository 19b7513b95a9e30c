"""The terminal summary and the JSON summary of one known run."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from loadgate.analysis.thresholds_eval import judge_stored
from loadgate.report.generator_view import GeneratorStalls
from loadgate.report.json_summary import summary_to_dict
from loadgate.report.stored_run import StoredRun, write_stored_json
from loadgate.report.terminal import format_ms, print_summary, print_verdicts
from loadgate.stats.summary import RunSummary, summarize
from tests.analysis.builders import shop_summary
from tests.builders import START_S, endpoint_second, new_run, run_info


def test_format_ms_keeps_microseconds_below_100_ms() -> None:
    assert format_ms(0.012) == "0.012"
    assert format_ms(99.999) == "99.999"
    assert format_ms(1234.56) == "1234.6"
    assert format_ms(12_345.6) == "12346"


def test_terminal_summary_shows_every_endpoint_total_and_status_classes() -> None:
    console = Console(record=True, width=200)
    print_summary(shop_summary(), console)
    text = console.export_text()
    for name in ("/v1/products", "/v1/products/:id", "/v1/search", "Total"):
        assert name in text
    # 10..1000 µs in 10 µs steps: p50 is exactly 500 µs.
    assert "0.500" in text
    assert "429×1" in text  # accepted 429: expected
    assert "0×5" in text  # no response: unexpected
    assert "ConnectionRefusedError" in text


def test_json_summary_fields() -> None:
    summary = shop_summary()
    document = summary_to_dict(summary)
    products = next(e for e in document["endpoints"] if e["name"] == "/v1/products")
    assert products["requests"] == 100
    assert products["p50_ms"] == 0.5
    assert products["p99_ms"] == 0.99
    assert products["max_ms"] == 1.0
    assert products["rps"] == 10.0
    by_id = next(e for e in document["endpoints"] if e["name"] == "/v1/products/:id")
    assert by_id["status_counts"] == {"200": 7, "429": 1, "503": 2}
    assert by_id["unexpected_status_counts"] == {"503": 2}
    assert document["total"]["requests"] == 125
    assert document["total"]["status_counts"]["0"] == 5
    assert document["users_max"] == 10
    assert document["status"] == "completed"


def test_write_json_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_stored_json(StoredRun(summary=shop_summary(), stalls=GeneratorStalls([])), path)
    assert json.loads(path.read_text())["run_id"] == 7


def _markup_summary() -> RunSummary:
    run = new_run(name="[bold]nightly", settings={"thresholds": ["GET /items/[id]: p95 < 1ms"]})
    seconds = [
        endpoint_second(START_S, "GET", "/items/[id]", (300, 2000)),
        endpoint_second(
            START_S, "POST", "/cart [/b]", (400,), failed={"0": 1},
            errors={"HTTPError('[/b] closed [red]x')": 1},
        ),
    ]  # fmt: skip
    return summarize(run_info(run, duration_s=1.0), seconds, [])


def test_names_errors_and_thresholds_are_printed_as_written_never_as_markup() -> None:
    summary = _markup_summary()
    console = Console(record=True, width=200)
    print_summary(summary, console)  # "[/b]" used to raise rich's MarkupError here
    verdicts = judge_stored(summary)
    assert verdicts and not verdicts[0].passed
    print_verdicts(verdicts, console)
    text = console.export_text()
    for written in (
        "/items/[id]",
        "/cart [/b]",
        "HTTPError('[/b] closed [red]x')",
        "[bold]nightly",
        "GET /items/[id]: p95 < 1ms",
    ):
        assert written in text
