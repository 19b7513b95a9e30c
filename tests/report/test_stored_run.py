"""A stored run's outputs from one value: terminal, JSON and HTML show the same parts."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from loadgate.model import EventKind, GeneratorSecond, RunEvent, WorkerTotal
from loadgate.report.generator_view import GeneratorStalls
from loadgate.report.stored_run import (
    StoredRun,
    print_stored_run,
    stored_run_to_json,
    write_stored_html,
)
from tests.analysis.builders import START_S, shop_summary
from tests.builders import timeline_of
from tests.report import synthetic_run


def _worker(worker_id: str, region: str, cpu_max: float) -> WorkerTotal:
    return WorkerTotal(
        worker_id=worker_id,
        region=region,
        requests=120,
        failures=1,
        first_second=START_S,
        last_second=START_S + 9,
        cpu_percent_mean=40.0,
        cpu_percent_max=cpu_max,
        users_max=5,
        clock_offset_ms=-3.0,
    )


def _distributed() -> StoredRun:
    summary = shop_summary()
    return StoredRun(
        summary=summary,
        stalls=GeneratorStalls([GeneratorSecond(second=START_S + 1, stall_ms=12.5)]),
        workers=(_worker("w-<1>", "eu", 50.0), _worker("w-2", "us", 97.0)),
        events=(
            RunEvent(
                second=START_S + 4,
                kind=EventKind.WORKER_LOST,
                subject="w-3",
                detail={"region": "us", "users": 2},
            ),
        ),
        regions={"eu": summary, "us": summary},
    )


def test_the_terminal_shows_every_part_in_order() -> None:
    console = Console(record=True, width=300)
    print_stored_run(_distributed(), console)
    text = console.export_text()
    parts = [
        "Latency (ms) per endpoint",
        "paused up to 12.5 ms",
        "Workers",
        "w-<1>",
        "-3 ms",
        "saturated workers: w-2 (CPU 97%)",
        "worker lost: w-3 (region us)",
        "in region eu",
        "in region us",
    ]
    at = [text.find(part) for part in parts]
    assert -1 not in at, dict(zip(parts, at, strict=True))
    assert at == sorted(at)


def test_the_json_has_every_part() -> None:
    document = json.loads(stored_run_to_json(_distributed()))
    assert document["generator"]["stall_ms_max"] == 12.5
    assert [w["worker_id"] for w in document["workers"]] == ["w-<1>", "w-2"]
    assert [w["saturated"] for w in document["workers"]] == [False, True]
    assert document["events"][0]["kind"] == "worker_lost"
    assert set(document["regions"]) == {"eu", "us"}
    assert document["findings"] == []


def test_the_html_has_the_stalls_and_the_workers(tmp_path: Path) -> None:
    run = synthetic_run.run_info()
    timeline = timeline_of(run, synthetic_run.endpoint_seconds(), synthetic_run.user_samples())
    path = tmp_path / "r.html"
    write_stored_html(path, _distributed(), timeline)
    html = path.read_text()
    assert "paused up to 12.5 ms" in html
    assert "<td>w-&lt;1&gt;</td><td>eu</td><td>120</td>" in html
    assert "<td>-3 ms</td>" in html
    assert "saturated workers: w-2" in html
    assert "worker lost: w-3" in html
