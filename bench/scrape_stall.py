"""Does scraping stall the load generator? The hub's longest stall per second, with and without.

Runs `loadgate run` (10 users of examples/seed/browse.py against the built-in
gateway) three times, back to back: without scraping (the baseline), with the
gateway's /metrics scraped (the default), and with a second URL that accepts
connections and never answers (each scrape waits its whole 0.8 s timeout on
its thread). Reads the generator's stall per second the run stored
(loadgate.engine.stall) and prints, for each, the median, 90th percentile and
maximum over the steady seconds (the first 3 and the last 2 left out), and
their ratio to the baseline's.

    .venv/bin/python bench/scrape_stall.py [--seconds 20] [--users 10]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from loadgate.store import RunStore

REPO = Path(__file__).parents[1]
SCRIPT = REPO / "examples" / "seed" / "browse.py"
SKIP_FIRST, SKIP_LAST = 3, 2


def silent_server() -> tuple[str, socket.socket]:
    """A listener that accepts and never answers, and its /metrics URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/metrics", listener


def stalls_ms(db_url: str, args: argparse.Namespace, *extra: str) -> list[float]:
    loadgate = str(Path(sys.executable).with_name("loadgate"))
    command = [loadgate, "run", str(SCRIPT), "-u", str(args.users), "-r", str(args.users),
               "-t", f"{args.seconds}s", "-q", "--db", db_url, *extra]  # fmt: skip
    subprocess.run(command, capture_output=True, check=False, cwd=REPO, timeout=300)
    with RunStore.open(db_url) as store:
        run = store.resolve("last")
        seconds = store.generator_seconds(run.run_id)
    steady = seconds[SKIP_FIRST : len(seconds) - SKIP_LAST]
    return [s.stall_ms for s in steady]


def figures(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return statistics.median(ordered), p90, ordered[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    silent, listener = silent_server()
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{folder}/runs.db"
        variants = {
            "no scraping (baseline)": stalls_ms(db_url, args, "--no-scrape"),
            "gateway /metrics": stalls_ms(db_url, args),
            "+ a URL that never answers": stalls_ms(db_url, args, "--scrape", silent),
        }
    listener.close()
    base = figures(variants["no scraping (baseline)"])
    print("hub stall per second, ms: median  p90  max   (ratio to the baseline)")
    for name, values in variants.items():
        median, p90, most = figures(values)
        print(
            f"{name:28s} {median:6.2f} {p90:5.2f} {most:6.2f}   "
            f"(×{median / base[0]:.2f} ×{p90 / base[1]:.2f} ×{most / base[2]:.2f})"
        )


if __name__ == "__main__":
    main()
