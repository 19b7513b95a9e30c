"""The seed's four Locust scripts, unmodified, under plain `locust --headless`."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.gateway import RunningGateway

SEED = Path(__file__).parents[2] / "examples" / "seed"
SCRIPTS = ("browse", "authenticated", "checkout", "rate_limit")
LOCUST = Path(sys.executable).parent / "locust"


def aggregated(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


def locust_command(script: str, host: str, out: Path) -> list[str]:
    return [
        str(LOCUST), "-f", str(SEED / f"{script}.py"), "--headless", "-u", "5", "-r", "5",
        "-t", "8s", "-H", host, "--csv", str(out / script), "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip


@pytest.mark.slow
def test_seed_scripts_pass_unmodified(gateway: RunningGateway, tmp_path: Path) -> None:
    def rate_limit_decisions() -> tuple[float, float]:
        return tuple(  # type: ignore[return-value]
            gateway.metric(
                "loadgate_gateway_rate_limit_total", consumer="rate-limit-tester", decision=d
            )
            for d in ("allowed", "rejected")
        )

    before = rate_limit_decisions()
    # All four at once against one gateway: short, small, and the suite stays fast.
    runs = {
        name: subprocess.Popen(
            locust_command(name, gateway.api_url, tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in SCRIPTS
    }
    outputs = {name: process.communicate(timeout=90)[0] for name, process in runs.items()}
    for name, process in runs.items():
        summary = aggregated(tmp_path / f"{name}_stats.csv")
        assert int(summary["Request Count"]) > 0, outputs[name]
        assert summary["Failure Count"] == "0", outputs[name]
        assert process.returncode == 0, outputs[name]
    after = rate_limit_decisions()
    allowed, rejected = (a - b for a, b in zip(after, before, strict=True))
    # rate_limit.py: 5 users at about 10 req/s each on one key limited to 20 req/s.
    assert allowed > 0
    assert rejected > 0
