"""A worker's side of a distributed run: its finished seconds, shipped in Locust's report.

Locust's worker fires `report_to_master` every WORKER_REPORT_INTERVAL (3 s)
and once more when the master tells it to quit (after its users stopped);
`PieceShipper` adds, under REPORT_KEY, every `EndpointSecond` the worker's
collector finished since the last report, HDR histograms already encoded,
so that the master only merges and stores (workers never open the store).
Encoding here, on the worker's hub, costs about 14 ms per 20 busy endpoints
a second (loadgate.engine.writer), once per report rather than per request.

The wire form is plain msgpack-able values (Locust's transport): each piece
is store.codec.endpoint_second_dict, the form spill files hold too.
`final` tells the master that nothing more will come from this worker, so
it can stop waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loadgate.engine.collector import Collector
from loadgate.model import ArrivalSecond, EndpointSecond
from loadgate.store.codec import (
    arrival_second_dict,
    arrival_second_from_dict,
    endpoint_second_dict,
    endpoint_second_from_dict,
)

REPORT_KEY = "loadgate"  # our key in Locust's worker report (Locust uses "stats", "errors"...)
# A worker stopped mid-run sends this custom message, {"users": N}, after its
# last report and before Locust's "quit", so the master can store why it went.
LEAVING_MESSAGE = "loadgate_leaving"
MIN_CPU_WINDOW_S = 1.0


@dataclass(frozen=True, kw_only=True)
class WorkerReport:
    """What one report carries from a worker, as the master reads it."""

    pieces: list[EndpointSecond]
    complete_before: int  # the worker sent every second before this one (its clock)
    final: bool
    cpu_percent: float | None  # None: not measured over this report
    sent_at_s: float  # the worker's wall clock when it sent the report
    users: int
    region: str = ""
    # The open model's scheduler counts (none in a closed-model run).
    arrivals: list[ArrivalSecond] = field(default_factory=list)


def report_from_wire(data: Mapping[str, Any]) -> WorkerReport | None:
    """Our part of a worker's report; None when the report has none (not a loadgate worker)."""
    ours = data.get(REPORT_KEY)
    if not isinstance(ours, Mapping):
        return None
    return WorkerReport(
        pieces=[endpoint_second_from_dict(wire) for wire in ours.get("pieces", ())],
        complete_before=int(ours.get("complete_before", 0)),
        final=bool(ours.get("final", False)),
        cpu_percent=None if ours.get("cpu_percent") is None else float(ours["cpu_percent"]),
        sent_at_s=float(ours.get("sent_at", 0.0)),
        users=int(data.get("user_count", 0) or 0),
        region=str(ours.get("region", "")),
        arrivals=[arrival_second_from_dict(wire) for wire in ours.get("arrivals", ())],
    )


class PieceShipper:
    """The worker's `report_to_master` listener: finished seconds out, one report at a time.

    `is_stopped` tells whether the worker's users have stopped (Locust sends
    its last report after stopping them, on the master's "quit"): then the
    current second goes too, and the report is marked final.
    """

    def __init__(
        self,
        collector: Collector,
        *,
        is_stopped: Callable[[], bool],
        region: str = "",
        clock_s: Callable[[], float] = time.time,
        cpu_clock_s: Callable[[], float] = time.process_time,
    ) -> None:
        self._collector = collector
        self._is_stopped = is_stopped
        self._region = region
        self._clock_s = clock_s
        self._cpu_clock_s = cpu_clock_s
        self._last = (clock_s(), cpu_clock_s())

    def _cpu_percent(self, now_s: float) -> float | None:
        """This process's CPU use since the last report (100 = one core busy all the time).

        None over less than MIN_CPU_WINDOW_S: Locust sends its first report
        as the worker starts, and a few ms of start-up would read as 100%.
        """
        cpu_s = self._cpu_clock_s()
        last_s, last_cpu_s = self._last
        wall_s = now_s - last_s
        if wall_s < MIN_CPU_WINDOW_S:
            return None
        self._last = (now_s, cpu_s)
        return 100.0 * (cpu_s - last_cpu_s) / wall_s

    def on_report_to_master(self, client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
        now_s = self._clock_s()
        final = self._is_stopped()
        current = int(now_s)
        collector = self._collector
        finished = collector.take_all() if final else collector.take_finished(current)
        tally = collector.arrivals
        arrivals = tally.take_all() if final else tally.take_finished(current)
        data[REPORT_KEY] = {
            "pieces": [
                endpoint_second_dict(piece)
                for second in finished
                for piece in second.to_endpoint_seconds()
            ],
            "complete_before": current + 1 if final else current,
            "final": final,
            "cpu_percent": self._cpu_percent(now_s),
            "sent_at": now_s,
            "region": self._region,
            "arrivals": [arrival_second_dict(counts.to_arrival_second()) for counts in arrivals],
        }
