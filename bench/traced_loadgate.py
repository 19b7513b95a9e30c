"""`loadgate` with tracemalloc on a signal, for bench/soak.py --trace (a bench tool only).

The first SIGUSR1 starts tracemalloc (after warm-up, so start-up allocations
are not traced); the second writes the top allocation sites still alive that
were made since then, by traceback, to the file named by the first argument.
What grew between the two signals and was never freed is at the top.

    python bench/traced_loadgate.py OUT.txt run script.py ...
"""

from __future__ import annotations

import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

FRAMES = 12
TOP = 15


def main() -> None:
    out = Path(sys.argv[1])
    del sys.argv[1]

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
            return
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        traced_b, _peak_b = tracemalloc.get_traced_memory()
        lines = [f"allocated since minute 1 and still alive: {traced_b / 1024:.0f} KiB"]
        for stat in snapshot.statistics("traceback")[:TOP]:
            lines.append(f"{stat.size / 1024:9.1f} KiB in {stat.count} blocks")
            lines.extend(f"    {line}" for line in stat.traceback.format(most_recent_first=True))
        out.write_text("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, on_signal)
    from loadgate.cli import main as loadgate_main

    loadgate_main()


if __name__ == "__main__":
    main()
