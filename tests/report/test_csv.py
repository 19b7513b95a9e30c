"""Locust-compatible CSV: Locust 2.47's exact headers, our exact values."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadgate.errors import ConfigError
from loadgate.report.csv_export import (
    FAILURES_COLUMNS,
    HISTORY_COLUMNS,
    STATS_COLUMNS,
    write_csv,
)
from loadgate.stats import summarize
from tests.analysis.builders import shop_seconds, shop_summary, users
from tests.builders import START_S, endpoint_second, run_info

# Checked by hand against locust 2.47.0's locust/stats.py: StatsCSV.requests_csv_columns,
# StatsCSV.failures_columns and StatsCSVFileWriter.stats_history_csv_columns, with
# PERCENTILES_TO_REPORT through get_readable_percentiles.
LOCUST_PERCENTILES = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%"]
LOCUST_PERCENTILES += ["100%"]
LOCUST_STATS = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *LOCUST_PERCENTILES,
]
LOCUST_HISTORY = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *LOCUST_PERCENTILES,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
LOCUST_FAILURES = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]

# Locust itself, in a child process: importing it here would monkey-patch this one.
LOCUST_HEADERS = """
import json, os, sys, tempfile
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV, StatsCSVFileWriter
os.chdir(tempfile.mkdtemp())
requests = StatsCSV(None, PERCENTILES_TO_REPORT)
history = StatsCSVFileWriter(None, PERCENTILES_TO_REPORT, "x")
history.close_files()
json.dump([requests.requests_csv_columns, history.stats_history_csv_columns,
           requests.failures_columns], sys.stdout)
"""


def read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_headers_are_locusts() -> None:
    assert list(STATS_COLUMNS) == LOCUST_STATS
    assert list(HISTORY_COLUMNS) == LOCUST_HISTORY
    assert list(FAILURES_COLUMNS) == LOCUST_FAILURES


def test_headers_are_those_of_the_installed_locust() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOCUST_HEADERS], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [LOCUST_STATS, LOCUST_HISTORY, LOCUST_FAILURES]


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Path]:
    paths = write_csv(tmp_path / "run", shop_summary(), shop_seconds(), users(2, 4, 6, 8, 10))
    assert [p.name for p in paths] == ["run_stats.csv", "run_stats_history.csv", "run_failures.csv"]
    return {p.name.removeprefix("run_").removesuffix(".csv"): p for p in paths}


def test_stats_rows_are_exact(written: dict[str, Path]) -> None:
    header, *rows = read(written["stats"])
    assert header == LOCUST_STATS
    # the shop of tests/analysis/builders.py, worked out by hand (ms; HDR below 2048 µs is exact)
    products = ["0.5", "0.66", "0.75", "0.8", "0.9", "0.95", "0.98", "0.99", "1", "1", "1"]
    total = ["0.63", "0.83", "0.94", "1", "2", "2", *["1500.159"] * 5]
    search = ["GET", "/v1/search", "5", "5", "1500.159", "1499.648", "1499.136", "1500.159"]
    search += ["0", "0.5", "0.5"]
    aggregated = ["", "Aggregated", "125", "7", "0.63", "60.67", "0.01", "1500.159", "400"]
    aggregated += ["12.5", "0.7"]
    assert rows == [
        [
            "GET",
            "/v1/products",
            "100",
            "0",
            "0.5",
            "0.505",
            "0.01",
            "1",
            "500",
            "10",
            "0",
            *products,
        ],
        [
            "POST",
            "/v1/products",
            "10",
            "0",
            "1.5",
            "1.5",
            "1.5",
            "1.5",
            "0",
            "1",
            "0",
            *["1.5"] * 11,
        ],
        ["GET", "/v1/products/:id", "10", "2", "2", "2", "2", "2", "0", "1", "0.2", *["2"] * 11],
        [*search, *["1500.159"] * 11],
        [*aggregated, *total],
    ]


def test_files_are_written_like_locusts(written: dict[str, Path]) -> None:
    # Locust's csv.writer on a text file: \r\n line ends, no BOM
    raw = written["stats"].read_bytes()
    assert raw.startswith(b"Type,Name,Request Count,")
    assert raw.count(b"\r\n") == 6
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_history_has_a_row_per_second_with_cumulative_totals(written: dict[str, Path]) -> None:
    header, *rows = read(written["stats_history"])
    assert header == LOCUST_HISTORY
    assert [row[0] for row in rows] == [str(START_S + s) for s in range(10)]
    assert {tuple(row[2:4]) for row in rows} == {("", "Aggregated")}
    # users carried forward after the last sample
    assert [row[1] for row in rows] == ["2", "4", "6", "8", "10", "10", "10", "10", "10", "10"]
    # second 0: 10 products at 10..100 µs and 10 product pages at 2 ms, 2 of them failed
    percentiles = ["0.1", *["2"] * 10]
    totals = ["20", "2", "0.1", "1.028", "0.01", "2", "250"]
    now = ["1700000000", "2", "", "Aggregated", "20.000000", "2.000000"]
    assert rows[0] == [*now, *percentiles, *totals]
    # in-second rates, not totals: second 2 has only the 10 product requests
    assert rows[2][4:6] == ["10.000000", "0.000000"]
    totals = ["20", "40", "50", "60", "70", "80", "90", "100", "110", "125"]
    assert [row[17] for row in rows] == totals


def test_the_last_history_row_is_the_aggregated_stats_row(written: dict[str, Path]) -> None:
    *_, aggregated = read(written["stats"])
    *_, last = read(written["stats_history"])
    stats = dict(zip(LOCUST_STATS, aggregated, strict=True))
    history = dict(zip(LOCUST_HISTORY, last, strict=True))
    for column in LOCUST_PERCENTILES:
        assert history[column] == stats[column]
    for column in (
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Average Content Size",
    ):
        assert history[f"Total {column}"] == stats[column], column


def test_full_history_adds_each_endpoint_before_the_aggregated_row(tmp_path: Path) -> None:
    paths = write_csv(tmp_path / "run", shop_summary(), shop_seconds(), full_history=True)
    _, *rows = read(paths[1])
    second_0 = [row[2:4] for row in rows if row[0] == str(START_S)]
    assert second_0 == [
        ["GET", "/v1/products"],
        ["GET", "/v1/products/:id"],
        ["", "Aggregated"],
    ]
    last = [row for row in rows if row[0] == str(START_S + 9)]
    assert [row[2:4] for row in last] == [
        ["GET", "/v1/products"],
        ["POST", "/v1/products"],
        ["GET", "/v1/products/:id"],
        ["GET", "/v1/search"],
        ["", "Aggregated"],
    ]
    # an endpoint's row in a second it was idle: no requests now, its totals so far
    assert last[2][4:6] == ["0.000000", "0.000000"]
    assert last[2][17:] == ["10", "2", "2", "2", "2", "2", "0"]
    # every endpoint's last row equals its stats row
    _, *stats = read(paths[0])
    for history_row, stats_row in zip(last, stats, strict=True):
        assert history_row[6:17] == stats_row[11:]
        assert history_row[17:] == stats_row[2:9]


def test_failures_rows(written: dict[str, Path]) -> None:
    header, *rows = read(written["failures"])
    assert header == LOCUST_FAILURES
    assert rows == [
        [
            "GET",
            "/v1/search",
            "ConnectionRefusedError(111, 'Connection refused')",
            "5",
            "2023-11-14T22:13:29Z",
            "2023-11-14T22:13:29Z",
        ],
        [
            "GET",
            "/v1/products/:id",
            "HTTPError('503 Server Error')",
            "2",
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20Z",
        ],
    ]


def test_an_error_seen_over_several_seconds(tmp_path: Path) -> None:
    seconds = [
        endpoint_second(
            START_S + s, "GET", "/a", [1000], ok={}, failed={"500": 1}, errors={"boom": 1}
        )
        for s in (3, 7, 5)
    ]
    paths = write_csv(tmp_path / "x", summarize(run_info(duration_s=10.0), seconds, []), seconds)
    assert read(paths[2])[1:] == [
        ["GET", "/a", "boom", "3", "2023-11-14T22:13:23Z", "2023-11-14T22:13:27Z"]
    ]
    # the seconds without requests between them still have their history row
    _, *history = read(paths[1])
    assert [row[0] for row in history] == [str(START_S + s) for s in range(3, 8)]
    rates = ["1.000000", "0.000000", "1.000000", "0.000000", "1.000000"]
    assert [row[4] for row in history] == rates


def test_a_run_without_requests(tmp_path: Path) -> None:
    paths = write_csv(tmp_path / "empty", summarize(run_info(duration_s=5.0), [], []), [])
    assert read(paths[0])[1:] == [
        ["", "Aggregated", "0", "0", "0", "0", "0", "0", "0", "0", "0"] + ["N/A"] * 11
    ]
    assert read(paths[1]) == [LOCUST_HISTORY]
    assert read(paths[2]) == [LOCUST_FAILURES]


def test_missing_folders_are_created(tmp_path: Path) -> None:
    paths = write_csv(tmp_path / "results" / "nightly" / "run", shop_summary(), shop_seconds())
    assert all(path.is_file() for path in paths)


def test_an_unwritable_prefix_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"cannot write the CSV file .*file/run_stats\.csv"):
        write_csv(tmp_path / "file" / "run", shop_summary(), shop_seconds())
