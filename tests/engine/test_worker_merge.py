"""The master's merge: workers' pieces held until complete, merged exactly, sent totals kept."""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass, replace

import msgpack

from loadgate.engine.collector import Collector
from loadgate.engine.shipping import REPORT_KEY, PieceShipper, WorkerReport, report_from_wire
from loadgate.engine.worker_merge import CLOCK_ALLOWANCE_S, REPORT_INTERVAL_S, WorkerMerge
from loadgate.engine.writer import SecondsWriter
from loadgate.model import EndpointSecond, EventKind, MeasuredBatch
from loadgate.report.workers_view import clock_warnings
from loadgate.stats import LatencyHistogram

T0 = 1_800_000_000


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def piece(second: int, latencies_us: list[int], name: str = "/a") -> EndpointSecond:
    histogram = LatencyHistogram()
    for value in latencies_us:
        histogram.record_us(value)
    return EndpointSecond(
        second=second, method="GET", name=name, requests=len(latencies_us), failures=0,
        bytes_received=10 * len(latencies_us), histogram=histogram.encode(),
        ok_status_counts={"200": len(latencies_us)},
    )  # fmt: skip


def report(
    pieces: list[EndpointSecond], complete_before: int, final: bool = False, cpu: float = 50.0
) -> WorkerReport:
    return WorkerReport(
        pieces=pieces, complete_before=complete_before, final=final, cpu_percent=cpu,
        sent_at_s=float(complete_before), users=3,
    )  # fmt: skip


def test_a_second_waits_until_every_live_worker_has_reported_past_it() -> None:
    clock = Clock(T0 + 3.5)
    merge = WorkerMerge(clock_s=clock)
    merge.live_workers = lambda: {"w1": 1, "w2": 1}
    merge.add("w1", report([piece(T0, [100]), piece(T0 + 1, [200])], complete_before=T0 + 2))
    merge.add("w2", report([piece(T0, [300])], complete_before=T0 + 1))
    ready = merge.take_ready()
    assert [(p.second, p.requests) for p in ready] == [(T0, 1), (T0, 1)]
    assert merge.take_ready() == []  # T0 + 1: w2 has not reported it complete yet
    merge.add("w2", report([piece(T0 + 1, [400])], complete_before=T0 + 2))
    assert sorted(p.histogram for p in merge.take_ready()) == sorted(
        [piece(T0 + 1, [200]).histogram, piece(T0 + 1, [400]).histogram]
    )


def test_a_silent_worker_holds_seconds_back_only_for_the_report_interval_and_allowance() -> None:
    clock = Clock(T0 + 1.5)
    merge = WorkerMerge(clock_s=clock)
    merge.live_workers = lambda: {"w1": 1, "w2": 1}
    merge.add("w1", report([piece(T0, [100])], complete_before=T0 + 1))
    merge.add("w2", report([], complete_before=T0))
    assert merge.take_ready() == []
    clock.now_s = T0 + 1 + REPORT_INTERVAL_S + CLOCK_ALLOWANCE_S
    assert len(merge.take_ready()) == 1


def test_a_lost_worker_does_not_hold_seconds_back() -> None:
    merge = WorkerMerge(clock_s=Clock(T0 + 1.5))
    live = {"w1": 2, "w2": 3}
    merge.live_workers = lambda: live
    merge.add("w1", report([piece(T0, [100])], complete_before=T0 + 1))
    merge.add("w2", report([], complete_before=T0))
    assert merge.take_ready() == []
    assert merge.take_events() == []
    del live["w2"]
    assert len(merge.take_ready()) == 1
    (event,) = merge.take_events()
    assert (event.subject, event.detail["users"]) == ("w2", 3)
    assert merge.take_events() == []  # once


@dataclass(frozen=True)
class LocustMessage:
    """What Locust's master hands a custom message's listener: the sender and the data."""

    node_id: str
    data: dict[str, int]


def test_a_worker_that_leaves_is_an_event_of_its_own_and_never_lost() -> None:
    merge = WorkerMerge(clock_s=Clock(T0 + 1.5))
    live = {"w1": 2, "w2": 2}
    merge.live_workers = lambda: live
    merge.add("w1", report([piece(T0, [100])], complete_before=T0 + 1))
    last = report([piece(T0, [200])], complete_before=T0 + 2, final=True)
    merge.add("w2", replace(last, region="eu"))
    merge.on_worker_leaving(msg=LocustMessage("w2", {"users": 2}))
    del live["w2"]  # Locust's "quit" followed: the master forgot it
    (event,) = merge.take_events()
    assert event.kind is EventKind.WORKER_LEFT
    assert (event.second, event.subject) == (T0 + 1, "w2")
    assert event.detail == {"region": "eu", "users": 2}
    assert merge.take_events() == []  # its final report came: not lost as well


def test_the_writer_merges_pieces_of_a_second_into_one_exact_row() -> None:
    appended: list[EndpointSecond] = []

    class Sink:
        def append_batches(self, run_id: int, batches: list[MeasuredBatch]) -> None:
            appended.extend(s for batch in batches for s in batch.seconds)

    merge = WorkerMerge(clock_s=Clock(T0 + 10))
    merge.add("w1", report([piece(T0, [100, 200, 300])], complete_before=T0 + 1, final=True))
    merge.add("w2", report([piece(T0, [1000, 2000])], complete_before=T0 + 1, final=True))
    writer = SecondsWriter(Sink(), 1, Collector(), pieces=merge)
    writer.tick(T0 + 10, users=6)
    assert len(appended) == 1
    row = appended[0]
    assert (row.requests, row.bytes_received, dict(row.ok_status_counts)) == (5, 50, {"200": 5})
    histogram = LatencyHistogram.decode(row.histogram)
    assert histogram.quantile_us(1.0) == 2000
    assert histogram.quantile_us(0.5) == 300
    assert writer.requests_total == 5


def test_worker_totals_say_what_each_worker_sent() -> None:
    merge = WorkerMerge(clock_s=Clock(T0 + 10))
    merge.add("w1", report([piece(T0, [1] * 10), piece(T0 + 1, [1] * 30)], T0 + 2, cpu=40.0))
    merge.add("w1", report([], T0 + 3, cpu=98.0))
    merge.add("w1", report([], T0 + 3, final=True, cpu=1.0))  # after its users stopped
    (total,) = merge.totals()
    assert (total.requests, total.first_second, total.last_second) == (40, T0, T0 + 1)
    assert total.rate_per_s == 20.0
    assert (total.cpu_percent_mean, total.cpu_percent_max) == (69.0, 98.0)
    assert merge.waiting_for({"w1", "w2"}) == {"w2"}


def test_a_report_survives_locusts_msgpack_transport_and_the_last_one_takes_everything() -> None:
    clock = Clock(T0 + 0.2)
    collector = Collector(clock_s=clock)
    stopped = False
    shipper = PieceShipper(collector, is_stopped=lambda: stopped, clock_s=clock)
    for response_time_ms in (1.0, 2.0):
        collector.on_request(request_type="GET", name="/a", response_time=response_time_ms,
                             response_length=5)  # fmt: skip
    clock.now_s = T0 + 1.2
    collector.on_request(request_type="GET", name="/a", response_time=3.0, response_length=5)
    data: dict[str, object] = {}
    shipper.on_report_to_master("w1", data)
    first = report_from_wire(msgpack.unpackb(msgpack.packb(data), raw=False))
    assert first is not None and not first.final
    assert [(p.second, p.requests) for p in first.pieces] == [(T0, 2)]
    assert first.complete_before == T0 + 1
    stopped = True
    data = {}
    shipper.on_report_to_master("w1", data)
    last = report_from_wire(msgpack.unpackb(msgpack.packb(data), raw=False))
    assert last is not None and last.final
    assert [(p.second, p.requests) for p in last.pieces] == [(T0 + 1, 1)]
    assert REPORT_KEY in data


def test_a_workers_clock_offset_is_estimated_from_its_quickest_report() -> None:
    clock = Clock(T0 + 10.0)
    merge = WorkerMerge(clock_s=clock)
    # The worker's clock is 400 ms ahead; its reports take 30 ms, then 5 ms, to arrive.
    for transit_s in (0.030, 0.005, 0.050):
        sent_at_s = clock.now_s + 0.400
        clock.now_s += transit_s
        merge.add("w1", replace(report([], T0), sent_at_s=sent_at_s))
        clock.now_s += 3.0
    (total,) = merge.totals()
    assert total.clock_offset_ms is not None
    assert abs(total.clock_offset_ms - 395.0) < 0.01
    (line,) = clock_warnings(merge.totals())
    assert "395 ms ahead of the master's" in line and "NTP" in line
    assert clock_warnings([replace(total, clock_offset_ms=-120.0)]) == []


def test_half_an_hour_of_reports_leaves_the_merge_holding_no_more_than_after_a_minute() -> None:
    workers = [f"w{number}" for number in range(20)]
    clock = Clock(T0)
    merge = WorkerMerge(clock_s=clock)
    merge.live_workers = lambda: dict.fromkeys(workers, 5)
    template = piece(T0, [100, 200, 300])

    def report_for(reports: range) -> None:
        """Every worker sends its last REPORT_INTERVAL_S seconds; the ticker takes what is ready."""
        for number in reports:
            end_s = T0 + int(REPORT_INTERVAL_S) * (number + 1)
            clock.now_s = float(end_s)
            for worker in workers:
                pieces = [
                    replace(template, second=second)
                    for second in range(end_s - int(REPORT_INTERVAL_S), end_s)
                ]
                merge.add(worker, report(pieces, end_s, cpu=40.0 + number % 50 + 0.5))
            merge.take_ready()
            merge.take_events()

    reports_a_minute = int(60 / REPORT_INTERVAL_S)
    tracemalloc.start()
    try:
        report_for(range(reports_a_minute))
        gc.collect()
        after_a_minute_b, _ = tracemalloc.get_traced_memory()
        report_for(range(reports_a_minute, 30 * reports_a_minute))
        gc.collect()
        after_half_an_hour_b, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert after_half_an_hour_b - after_a_minute_b < 64 * 1024
    (first, *_) = merge.totals()
    assert first.requests == 3 * int(REPORT_INTERVAL_S) * 30 * reports_a_minute
    assert first.cpu_percent_max == 89.5
