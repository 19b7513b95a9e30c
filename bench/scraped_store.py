"""Store size, write time, and `show`/`report` time and peak memory as scraped metrics grow.

Builds, through the store's own API (create_run, append_scrapes, finish_run),
runs of 10 minutes and 1 hour (by default; `--minutes`) whose target was
scraped once a second: SERIES series per second (the reference gateway
exports about 112), a tenth of them upstream counters and breaker gauges, the
rest request counters and latency quantiles. Each second is one append, as
the run's sink makes them. Then `loadgate show --json` and `loadgate report`
run as subprocesses of the installed CLI, their wall time and peak RSS (from
os.wait4) measured; the figures of each length are printed beside those of
the shortest, as ratios, so that growth with the run's length shows
whatever the machine.

    .venv/bin/python bench/scraped_store.py [--minutes 10 60] [--series 112]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loadgate.model import NewRun, RunStatus
from loadgate.scraped import ScrapeSecond, SeriesKey, SeriesKind
from loadgate.store import RunStore

URL = "http://127.0.0.1:8081/metrics"
START = datetime(2026, 1, 1, tzinfo=UTC)


def series_keys(count: int) -> list[SeriesKey]:
    keys = [
        SeriesKey(
            url=URL,
            name="loadgate_gateway_upstream_latency_seconds_count",
            labels=(("upstream", f"u{i}"),),
            kind=SeriesKind.RATE,
        )
        for i in range(4)
    ]
    keys += [
        SeriesKey(
            url=URL,
            name="loadgate_gateway_circuit_breaker_state",
            labels=(("upstream", f"u{i}"),),
            kind=SeriesKind.GAUGE,
        )
        for i in range(4)
    ]
    index = 0
    while len(keys) < count:
        keys.append(
            SeriesKey(
                url=URL,
                name="loadgate_gateway_requests_total",
                labels=(("route", f"r{index}"), ("status", "200")),
                kind=SeriesKind.RATE,
            )
        )
        index += 1
    return keys[:count]


def build(store: RunStore, minutes: int, series: int) -> tuple[int, float]:
    """A finished run of `minutes` with `series` scraped series; (run id, seconds per append)."""
    run_id = store.create_run(
        NewRun(name=f"scraped-{minutes}m", script_path="x.py", script_text="", host="",
               started_at=START)
    )  # fmt: skip
    keys = series_keys(series)
    first = int(START.timestamp())
    ids: dict[SeriesKey, int] = {}
    started = time.perf_counter()
    for offset in range(minutes * 60):
        values = {key: float((offset + i) % 50) for i, key in enumerate(keys)}
        scrape = ScrapeSecond(url=URL, second=first + offset, values=values)
        ids.update(store.append_scrapes(run_id, [scrape], ids))
    per_append_s = (time.perf_counter() - started) / (minutes * 60)
    store.finish_run(run_id, RunStatus.COMPLETED, START + timedelta(minutes=minutes))
    return run_id, per_append_s


def measured(*args: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of `loadgate ARGS`."""
    command = [str(Path(sys.executable).with_name("loadgate")), *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall_s = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {process.stderr.read().decode()}")  # type: ignore[union-attr]
    return wall_s, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 60])
    parser.add_argument("--series", type=int, default=112)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for minutes in options.minutes:
            db = Path(folder) / f"runs-{minutes}.db"
            url = f"sqlite:///{db}"
            with RunStore.open(url) as store:
                run_id, per_append_s = build(store, minutes, options.series)
            size_mib = db.stat().st_size / 2**20
            show = measured("show", str(run_id), "--json", "--db", url)
            report = measured("report", str(run_id), "-o", f"{folder}/r.html", "--db", url)
            rows.append((minutes, size_mib, per_append_s, show, report))
        base = rows[0]
        print(f"{options.series} series scraped per second, SQLite")
        print("minutes  store MiB  append ms  show s  show MiB  report s  report MiB  (ratios)")
        for minutes, size, append_s, (show_s, show_mib), (report_s, report_mib) in rows:
            print(
                f"{minutes:7d}  {size:9.1f}  {append_s * 1000:9.2f}  {show_s:6.2f}  {show_mib:8.0f}"
                f"  {report_s:8.2f}  {report_mib:10.0f}"
                f"  (store ×{size / base[1]:.1f}, show ×{show_s / base[3][0]:.2f}/"
                f"{show_mib / base[3][1]:.2f}, report ×{report_s / base[4][0]:.2f}/"
                f"{report_mib / base[4][1]:.2f})"
            )


if __name__ == "__main__":
    main()
