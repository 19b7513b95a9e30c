"""The master's side of a distributed run: workers' pieces held until their second is complete.

Each worker ships the seconds it finished (loadgate.engine.shipping) every
report interval. A second is released to the writer once it is past the
watermark: every live worker has reported a later second complete, or the
second is older than the report interval plus CLOCK_ALLOWANCE_S (a silent or
lost worker must not hold the run's data back). The writer then merges the
pieces of each (second, method, name, region) into one row
(loadgate.store.merging.merge_endpoint_seconds: HDR histograms added, counts
summed), so a second normally lands as one row per endpoint and region,
whatever the number of workers. A piece that arrives after its
second was released is written as a delta; readers add pieces of the same
second, so nothing is lost, only stored in two rows.

Only the hub touches this object (Locust's `worker_report` listener and the
ticker), so it needs no lock. Holding pieces costs nothing but memory: the
decoding and merging happen on the writer thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from loadgate.engine.shipping import WorkerReport, report_from_wire
from loadgate.model import ArrivalSecond, EndpointSecond, EventKind, RunEvent, WorkerTotal

# Locust's workers report every 3 s (runners.WORKER_REPORT_INTERVAL).
REPORT_INTERVAL_S = 3.0
CLOCK_ALLOWANCE_S = 2.0


@dataclass
class _Worker:
    worker_id: str
    region: str = ""
    complete_before: int = 0
    final: bool = False
    requests: int = 0
    failures: int = 0
    first_second: int | None = None
    last_second: int | None = None
    # Running figures rather than a list of samples: one report every 3 s
    # for the whole run, from every worker, would grow without end.
    cpu_percent_sum: float = 0.0
    cpu_reports: int = 0
    cpu_percent_max: float = 0.0
    users_max: int = 0
    users: int = 0  # as the master last saw it
    # The largest (worker clock at sending - master clock at receiving): the
    # worker's clock offset, less the quickest report's transit time.
    clock_offset_s: float | None = None
    lost: bool = False

    def note_clock(self, sent_at_s: float, received_at_s: float) -> None:
        if sent_at_s <= 0:
            return
        estimate_s = sent_at_s - received_at_s
        if self.clock_offset_s is None or estimate_s > self.clock_offset_s:
            self.clock_offset_s = estimate_s

    def note(self, report: WorkerReport) -> None:
        self.region = report.region or self.region
        self.complete_before = max(self.complete_before, report.complete_before)
        self.final = self.final or report.final
        if report.cpu_percent is not None and not report.final:
            # The final report comes after the users stopped: its CPU is not the run's.
            self.cpu_percent_sum += report.cpu_percent
            self.cpu_reports += 1
            self.cpu_percent_max = max(self.cpu_percent_max, report.cpu_percent)
        self.users_max = max(self.users_max, report.users)
        for piece in report.pieces:
            self.requests += piece.requests
            self.failures += piece.failures
            if self.first_second is None or piece.second < self.first_second:
                self.first_second = piece.second
            if self.last_second is None or piece.second > self.last_second:
                self.last_second = piece.second

    def total(self) -> WorkerTotal:
        return WorkerTotal(
            worker_id=self.worker_id,
            region=self.region,
            requests=self.requests,
            failures=self.failures,
            first_second=self.first_second,
            last_second=self.last_second,
            cpu_percent_mean=self.cpu_percent_sum / self.cpu_reports if self.cpu_reports else 0.0,
            cpu_percent_max=self.cpu_percent_max,
            users_max=self.users_max,
            clock_offset_ms=None if self.clock_offset_s is None else self.clock_offset_s * 1000,
        )


class WorkerMerge:
    """Buffers workers' pieces by second and releases the complete ones."""

    def __init__(
        self,
        *,
        report_interval_s: float = REPORT_INTERVAL_S,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self._hold_s = report_interval_s + CLOCK_ALLOWANCE_S
        self._clock_s = clock_s
        self._workers: dict[str, _Worker] = {}
        self._held: dict[int, list[EndpointSecond]] = {}
        self._events: list[RunEvent] = []
        # The open model's counts, held by second like the pieces: released
        # together, a second's pieces are stored as one row.
        self._held_arrivals: dict[int, list[ArrivalSecond]] = {}
        # Set by the master's runner: connected workers that are not missing,
        # with the users each runs (Locust forgets them once a worker is missing).
        self.live_workers: Callable[[], dict[str, int]] | None = None

    # -- Locust's worker_report listener ----------------------------------------

    def on_worker_report(self, client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
        report = report_from_wire(data)
        if report is None:
            return
        self.add(client_id, report)

    def add(self, worker_id: str, report: WorkerReport) -> None:
        worker = self._workers.get(worker_id)
        if worker is None:
            worker = self._workers[worker_id] = _Worker(worker_id)
        worker.note(report)
        worker.note_clock(report.sent_at_s, self._clock_s())
        for piece in report.pieces:
            if report.region and not piece.region:
                piece = replace(piece, region=report.region)  # noqa: PLW2901
            self._held.setdefault(piece.second, []).append(piece)
        for arrival in report.arrivals:
            self._held_arrivals.setdefault(arrival.second, []).append(arrival)

    def on_worker_leaving(self, msg: Any, **_kwargs: Any) -> None:
        """Locust's listener for LEAVING_MESSAGE: a worker stopped mid-run (Ctrl-C, SIGTERM)."""
        worker = self._workers.get(msg.node_id)
        self._events.append(
            RunEvent(
                second=int(self._clock_s()),
                kind=EventKind.WORKER_LEFT,
                subject=msg.node_id,
                detail={
                    "region": worker.region if worker is not None else "",
                    "users": int((msg.data or {}).get("users", 0)),
                },
            )
        )

    # -- the ticker ----------------------------------------------------------------

    def watermark(self) -> int:
        """Seconds before this one may be written now."""
        live_workers = set(self.live_workers()) if self.live_workers is not None else None
        by_time = int(self._clock_s() - self._hold_s)
        reporting = [
            w for w in self._workers.values()
            if not w.final and (live_workers is None or w.worker_id in live_workers)
        ]  # fmt: skip
        if not reporting:
            return max(by_time, max(self._held, default=by_time - 1) + 1)
        return max(by_time, min(w.complete_before for w in reporting))

    def take_ready(self) -> list[EndpointSecond]:
        """The pieces of every second past the watermark, oldest first."""
        watermark = self.watermark()
        ready = sorted(second for second in self._held if second < watermark)
        return [piece for second in ready for piece in self._held.pop(second)]

    def take_all(self) -> list[EndpointSecond]:
        """Everything held (at the end of a run)."""
        taken = [piece for second in sorted(self._held) for piece in self._held[second]]
        self._held = {}
        return taken

    def take_arrivals(self, *, everything: bool = False) -> list[ArrivalSecond]:
        """The workers' open-model counts of the seconds past the watermark (or all), in order."""
        watermark = None if everything else self.watermark()
        ready = sorted(s for s in self._held_arrivals if watermark is None or s < watermark)
        return [piece for second in ready for piece in self._held_arrivals.pop(second)]

    def take_events(self) -> list[RunEvent]:
        """Workers lost since the last call: known, not finished, and no longer live.

        Locust marks a worker missing after about 3 heartbeats (3-4 s) without one.
        """
        if self.live_workers is not None:
            live = self.live_workers()
            now_s = int(self._clock_s())
            for worker in self._workers.values():
                if worker.worker_id in live:
                    worker.users = live[worker.worker_id]
                    continue
                if worker.final or worker.lost:
                    continue
                worker.lost = True
                self._events.append(
                    RunEvent(
                        second=now_s,
                        kind=EventKind.WORKER_LOST,
                        subject=worker.worker_id,
                        detail={"region": worker.region, "users": worker.users},
                    )
                )
        taken, self._events = self._events, []
        return taken

    # -- the end of a run ----------------------------------------------------------

    def waiting_for(self, live_workers: set[str]) -> set[str]:
        """Live workers whose final report has not arrived yet."""
        return {w for w in live_workers if w not in self._workers or not self._workers[w].final}

    def totals(self) -> list[WorkerTotal]:
        """What each worker sent, in the order they first reported."""
        return [worker.total() for worker in self._workers.values()]
