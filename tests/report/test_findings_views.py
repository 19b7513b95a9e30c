"""Findings in every view of a stored run: `show`, `show --json` and `report` compute them again."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from loadgate.model import EndpointSecond, RunStatus, UsersSample
from loadgate.store import RunStore
from tests.analysis.series_builders import second, steady
from tests.builders import START_S, STARTED_AT, new_run

LOADGATE = Path(sys.executable).with_name("loadgate")
DURATION_S = 40


def loadgate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOADGATE), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def _store_run(url: str, name: str, *, burst: bool, ramp: bool = False) -> None:
    seconds = steady(DURATION_S)
    users = [UsersSample(second=START_S + s, users=5) for s in range(DURATION_S)]
    if burst:
        for s in range(10, 15):
            seconds[s] = second(s, 20, failed={"503": 15})
    if ramp:  # 1 to 4 users, 10 s each; a pool of 2 caps throughput at 20 req/s
        ramped, levels = capped_ramp()
        seconds = ramped
        users = [UsersSample(second=START_S + s, users=u) for s, u in levels.items()]
    with RunStore.open(url) as store:
        settings = {"thresholds": ["no finding >= warning"]}
        run_id = store.create_run(new_run(name, settings=settings))
        store.append(run_id, seconds, users)
        store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=DURATION_S))


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('findings') / 'runs.db'}"
    _store_run(url, "healthy", burst=False)
    _store_run(url, "burst", burst=True)
    _store_run(url, "ramp", burst=False, ramp=True)
    return url


def capped_ramp() -> tuple[list[EndpointSecond], dict[int, int]]:
    seconds, users = [], {}
    for s in range(DURATION_S):
        count = 1 + s // 10
        latency_us = 100_000 * max(2, count) // 2
        seconds.append(second(s, min(10 * count, 20), latency_us=latency_us))
        users[s] = count
    return seconds, users


def test_show_and_report_find_the_same_saturation_on_a_stored_ramp(
    db_url: str, tmp_path: Path
) -> None:
    shown = json.loads(loadgate("show", "ramp", "--json", "--db", db_url).stdout)["findings"]
    assert [(f["kind"], f["numbers"]["knee_users"]) for f in shown] == [("saturation", 2)]
    out = tmp_path / "ramp.html"
    assert loadgate("report", "ramp", "-o", out, "--db", db_url).returncode == 0
    html = out.read_text(encoding="utf-8")
    assert 'data-kind="saturation"' in html and shown[0]["sentence"] in html


def test_show_json_lists_the_findings(db_url: str) -> None:
    shown = loadgate("show", "burst", "--json", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    (finding,) = json.loads(shown.stdout)["findings"]
    assert finding["kind"] == "errors.gateway"
    assert finding["severity"] == "critical"
    assert (finding["from_s"], finding["to_s"]) == (10, 14)
    assert finding["numbers"]["count"] == 75
    healthy = json.loads(loadgate("show", "healthy", "--json", "--db", db_url).stdout)
    assert healthy["findings"] == []


def test_show_prints_the_findings_and_judges_the_finding_threshold(db_url: str) -> None:
    shown = loadgate("show", "burst", "--db", db_url)
    assert "Findings" in shown.stdout and "502/503/504" in shown.stdout
    assert "FAIL" in shown.stdout and "no finding >= warning" in shown.stdout
    healthy = loadgate("show", "healthy", "--db", db_url).stdout
    assert "Findings: none" in healthy and "FAIL" not in healthy


def test_report_lists_findings_first_and_shades_them_on_their_chart(
    db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "burst.html"
    written = loadgate("report", "burst", "-o", out, "--db", db_url)
    assert written.returncode == 0, written.stderr
    html = out.read_text(encoding="utf-8")
    assert html.index('id="findings"') < html.index('id="thresholds"')
    assert 'data-kind="errors.gateway"' in html and 'href="#chart-status"' in html
    assert '"finding errors.gateway"' in html  # the shape's name, in the chart's figure
    healthy = tmp_path / "healthy.html"
    loadgate("report", "healthy", "-o", healthy, "--db", db_url)
    assert 'id="no-findings"' in healthy.read_text(encoding="utf-8")
