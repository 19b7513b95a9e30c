"""The open model end to end: `loadgate run --arrival-rate` against the reference gateway."""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loadgate.model import RunInfo
from loadgate.stats.arrivals import add_up
from loadgate.store import RunStore
from tests.e2e.conftest import SCRIPTS, RunLoadgate, read_json
from tests.e2e.test_distributed_remote import Processes, wait_for_users, worker_args
from tests.fixtures.gateway import RunningGateway
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow

RATE_PER_S = 200
STALL_EVERY_S, STALL_FOR_S = 10, 1
STALL_RUN_S = 20  # two stalls, 10% of the arrivals: an open system's p95 ≈ 500 ms, p99 ≈ 900 ms
# Enough connections to the upstream for every request of a stall (200 wait 1 s).
STALL_GATEWAY = "[upstreams.catalog]\nmax_connections = 1024\n"


def _per_second(db_url: str) -> tuple[RunInfo, dict[int, int], dict[int, int]]:
    """The last run, its requests per (completion) second, its iterations per second."""
    with RunStore.open(db_url) as store:
        run = store.resolve("last")
        requests: dict[int, int] = defaultdict(int)
        for second in store.iter_endpoint_seconds(run.run_id):
            requests[second.second] += second.requests
        iterations: dict[int, int] = defaultdict(int)
        for piece in store.iter_arrival_seconds(run.run_id):
            iterations[piece.second] += piece.iterations
    return run, dict(requests), dict(iterations)


def test_each_task_is_an_iteration_on_schedule_the_first_one_too(
    loadgate: RunLoadgate, gateway: RunningGateway, db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "starts.txt"
    result = loadgate(
        "run", SCRIPTS / "open_sequence.py", "-H", gateway.api_url, "--arrival-rate", "20/s",
        "-u", "5", "-t", "3s", "-q", "--db", db_url, env={"OPEN_SEQUENCE_LOG": str(log)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    starts: list[float] = []
    tasks_by_user: dict[str, list[str]] = defaultdict(list)
    for line in log.read_text().splitlines():
        at_s, user, name = line.split()
        starts.append(float(at_s))
        tasks_by_user[user].append(name)
    starts.sort()
    # 20/s for 3 s, although each user's wait_time would allow 5 tasks in all.
    assert 57 <= len(starts) <= 62, len(starts)
    for names in tasks_by_user.values():
        assert names == (["first", "second", "third"] * len(names))[: len(names)]
    # The 5 users started together; their first tasks still came 50 ms apart.
    assert sum(1 for at_s in starts if at_s < starts[0] + 0.1) <= 3, starts[:6]
    gaps_s = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert statistics.median(gaps_s) == pytest.approx(0.05, abs=0.01)
    with RunStore.open(db_url) as store:
        totals = add_up(store.iter_arrival_seconds(store.resolve("last").run_id))
    assert totals.iterations == len(starts)
    assert totals.dropped_iterations == 0


def _open_system_truth_ms(
    quantile: float, run: RunInfo, requests: int, fault_set_s: float, base_ms: float
) -> float:
    """What users arriving at RATE_PER_S would see at `quantile`, from the stall timing.

    An arrival inside a stall waits for its end: a uniform wait of 0 to
    STALL_FOR_S for the stalled share of the arrivals, nothing for the rest.
    """
    assert run.ended_at is not None
    start_s, end_s = run.started_at.timestamp(), run.ended_at.timestamp()
    stalls = [fault_set_s + STALL_EVERY_S * k - STALL_FOR_S for k in range(1, 4)]
    inside = [s for s in stalls if start_s < s and s + STALL_FOR_S < end_s]
    cut = [s for s in stalls if s < end_s < s + STALL_FOR_S or s < start_s < s + STALL_FOR_S]
    assert len(inside) == 2 and not cut, (start_s, end_s, stalls)
    stalled_share = len(inside) * STALL_FOR_S * RATE_PER_S / requests
    wait_s = max(0.0, STALL_FOR_S * (1 - (1 - quantile) / stalled_share))
    return base_ms + wait_s * 1000


def _run_with_stalls(
    loadgate: RunLoadgate, gateway: RunningGateway, db_url: str, json_path: Path, *args: str
) -> tuple[float, dict[str, Any]]:
    """A run during which the upstream stalls; when the fault was set, and the JSON summary.

    The fault's first stall comes STALL_EVERY_S - STALL_FOR_S after it is set,
    once the run has started; STALL_RUN_S later the run has seen two stalls.
    """
    before_s = time.time()
    gateway.set_fault("catalog", stall_every_s=STALL_EVERY_S, stall_for_s=STALL_FOR_S)
    fault_set_s = (before_s + time.time()) / 2
    try:
        result = loadgate(
            "run", *args, "-H", gateway.api_url, "-t", f"{STALL_RUN_S}s", "-q", "--db", db_url,
            "--json", json_path, env={"OPEN_MODEL_SERVER_LOG": str(json_path) + ".server"},
        )  # fmt: skip
    finally:
        gateway.clear_faults()
    assert result.returncode == 0, result.stderr
    return fault_set_s, read_json(json_path)["total"]


def _quantile_ms(values_ms: list[float], quantile: float) -> float:
    ordered = sorted(values_ms)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def test_the_open_model_reports_the_stall_the_closed_model_hides(
    loadgate: RunLoadgate, gateway_factory: Callable[..., RunningGateway], tmp_path: Path
) -> None:
    """Three views of one stalling target: the ideal, the target's own, loadgate's.

    The ideal (from the stall timing: 10% of arrivals wait out a stall) leaves
    out the time the gateway takes to answer the 200 requests each stall
    releases at once; on a loaded machine that is 100 ms or more, which the
    target's own Server-Timing shows. So loadgate's percentiles are checked
    within 10% of the target's own, and at least at the ideal's level (less
    would be a stall hidden), and the closed model far below it.
    """
    gateway = gateway_factory(STALL_GATEWAY)
    open_db, closed_db = f"sqlite:///{tmp_path / 'open.db'}", f"sqlite:///{tmp_path / 'closed.db'}"
    open_json = tmp_path / "open.json"
    fault_set_s, measured = _run_with_stalls(
        loadgate, gateway, open_db, open_json, str(SCRIPTS / "open_model.py"),
        "--arrival-rate", f"{RATE_PER_S}/s", "-u", "250",
    )  # fmt: skip
    run, _requests, _iterations = _per_second(open_db)
    ideal = {
        q: _open_system_truth_ms(q, run, measured["requests"], fault_set_s, measured["p50_ms"])
        for q in (0.95, 0.99)
    }
    server_ms = [float(line) for line in Path(f"{open_json}.server").read_text().split()]
    assert len(server_ms) >= 0.95 * measured["requests"]
    target = {q: _quantile_ms(server_ms, q) for q in (0.95, 0.99)}
    _, closed = _run_with_stalls(
        loadgate, gateway, closed_db, tmp_path / "closed.json", str(SCRIPTS / "open_paced.py"),
        "-u", "20", "-r", "20",
    )  # fmt: skip
    print(
        f"\nstall {STALL_FOR_S} s every {STALL_EVERY_S} s at {RATE_PER_S}/s, p95 / p99 in ms: "
        f"ideal {ideal[0.95]:.0f} / {ideal[0.99]:.0f}; the gateway's own "
        f"{target[0.95]:.0f} / {target[0.99]:.0f}; --arrival-rate {measured['p95_ms']:.0f} / "
        f"{measured['p99_ms']:.0f}; closed model (20 users, constant_pacing) "
        f"{closed['p95_ms']:.1f} / {closed['p99_ms']:.1f}"
    )
    for q, key in ((0.95, "p95_ms"), (0.99, "p99_ms")):
        assert measured[key] == pytest.approx(target[q], rel=0.10)
        assert measured[key] >= 0.9 * ideal[q]
    # Its 20 users stopped sending while stalled: 40 requests saw a stall, not 400.
    assert closed["p95_ms"] < ideal[0.95] / 5


def test_arrival_stages_hold_each_rate_after_its_ramp(
    loadgate: RunLoadgate, gateway: RunningGateway, db_url: str
) -> None:
    result = loadgate(
        "run", SCRIPTS / "open_model.py", "-H", gateway.api_url,
        "--arrival-stages", "2s:100/s,4s:100/s,2s:200/s,4s:200/s", "-u", "20", "-q", "--db", db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run, requests, iterations = _per_second(db_url)
    first = min(iterations)
    # Wall seconds 3-5 lie within the 100/s hold, 9-11 within the 200/s one,
    # whatever fraction of a second the schedule started at.
    held = {first + k: 100 for k in (3, 4, 5)} | {first + k: 200 for k in (9, 10, 11)}
    for second, rate in held.items():
        assert requests.get(second, 0) == pytest.approx(rate, rel=0.05), (second, requests)
        assert iterations.get(second, 0) == pytest.approx(rate, rel=0.05), (second, iterations)
    assert run.settings["run_time_s"] == 12


def test_an_impossible_rate_is_reported_as_dropped_iterations(
    loadgate: RunLoadgate, gateway: RunningGateway, db_url: str, tmp_path: Path
) -> None:
    json_path = tmp_path / "summary.json"
    result = loadgate(
        "run", SCRIPTS / "open_model.py", "-H", gateway.api_url, "--arrival-rate", "100000/s",
        "-u", "10", "--max-users", "50", "-t", "3s", "-q", "--db", db_url, "--json", json_path,
        "--threshold", "dropped_iterations == 0", "--report", tmp_path / "report.html",
    )  # fmt: skip
    assert result.returncode == 99, result.stderr
    assert "the load generator fell behind the schedule" in result.stdout
    assert "were dropped" in result.stdout
    html = (tmp_path / "report.html").read_text()
    assert "Open model" in html and "were dropped" in html
    shown = loadgate("show", "last", "--json", "--db", db_url)
    arrival = read_json(json_path)["arrival"]
    assert json.loads(shown.stdout)["arrival"] == arrival
    assert arrival["fell_behind"] is True
    asked = arrival["iterations"] + arrival["dropped_iterations"]
    # What was asked is accounted for: started or dropped, not quietly less load
    # (the schedule starts once the 10 users are spawned, within the 3 s).
    assert asked >= 0.8 * 100_000 * 3, arrival
    # Every started iteration sent its request (those in flight at the stop are cut off).
    in_flight = arrival["iterations"] - read_json(json_path)["total"]["requests"]
    assert 0 <= in_flight <= 50
    assert arrival["dropped_iterations"] > 0.9 * asked


def test_two_processes_add_up_to_the_asked_rate(
    loadgate: RunLoadgate, gateway: RunningGateway, db_url: str
) -> None:
    result = loadgate(
        "run", SCRIPTS / "open_model.py", "-H", gateway.api_url, "--processes", "2",
        "--arrival-rate", f"{RATE_PER_S}/s", "-u", "10", "-t", "8s", "-q", "--db", db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _run, requests, iterations = _per_second(db_url)
    # The first and last seconds are partial (the last may hold only the stop's drops).
    steady = sorted(second for second, started in iterations.items() if started)[1:-1]
    assert len(steady) >= 5, iterations
    for second in steady:
        assert requests.get(second, 0) == pytest.approx(RATE_PER_S, rel=0.05), requests
        assert iterations[second] == pytest.approx(RATE_PER_S, rel=0.05), iterations
    with RunStore.open(db_url) as store:
        workers = store.workers(store.resolve("last").run_id)
    assert len(workers) == 2
    total = sum(w.requests for w in workers)
    assert total == sum(requests.values())
    for worker in workers:
        assert worker.requests == pytest.approx(total / 2, rel=0.05), workers


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.kill_all()


def test_a_lost_worker_s_share_goes_to_the_others(
    processes: Processes, gateway: RunningGateway, db_url: str, tmp_path: Path
) -> None:
    port, rate_per_s = free_port(), 100
    master = processes.start(
        "master", "run", SCRIPTS / "open_model.py", "-H", gateway.api_url, "--master",
        "--expect-workers", "2", "--master-bind-host", "127.0.0.1", "--master-bind-port",
        str(port), "--arrival-rate", f"{rate_per_s}/s", "-u", "4", "-t", "16s", "-q",
        "--db", db_url, "--json", tmp_path / "s.json",
    )  # fmt: skip
    workers = {
        region: processes.start(region, *worker_args(port, region))
        for region in ("stays", "doomed")
    }
    wait_for_users(db_url, 4)
    os.kill(workers["doomed"].pid, signal.SIGKILL)
    assert master.wait(90) == 0, processes.log("master")
    (event,) = read_json(tmp_path / "s.json")["events"]
    with RunStore.open(db_url) as store:
        run_id = store.resolve("last").run_id
        stayed: dict[int, int] = defaultdict(int)
        for second in store.iter_endpoint_seconds(run_id, by_region=True):
            if second.region == "stays":
                stayed[second.second] += second.requests
    _run, _requests, iterations = _per_second(db_url)
    # Locust calls the worker missing 3-4 s after its last heartbeat; a second
    # later the survivor has the whole schedule.
    started = sorted(second for second, count in iterations.items() if count)
    after = [s for s in started[:-1] if s > event["second"] + 1]
    assert len(after) >= 3, (event, iterations)
    for second in after:
        assert iterations[second] == pytest.approx(rate_per_s, rel=0.05), iterations
        assert stayed[second] == pytest.approx(rate_per_s, rel=0.05), stayed


def test_a_worker_that_joins_late_takes_its_share(
    processes: Processes, gateway: RunningGateway, db_url: str, tmp_path: Path
) -> None:
    port, rate_per_s = free_port(), 100
    master = processes.start(
        "master", "run", SCRIPTS / "open_model.py", "-H", gateway.api_url, "--master",
        "--expect-workers", "1", "--master-bind-host", "127.0.0.1", "--master-bind-port",
        str(port), "--arrival-rate", f"{rate_per_s}/s", "-u", "4", "-t", "18s", "-q",
        "--db", db_url,
    )  # fmt: skip
    processes.start("first", *worker_args(port, "first"))
    wait_for_users(db_url, 4)
    joined_s = time.time()
    processes.start("late", *worker_args(port, "late"))
    assert master.wait(90) == 0, processes.log("master")
    by_region: dict[str, dict[int, int]] = {"first": defaultdict(int), "late": defaultdict(int)}
    with RunStore.open(db_url) as store:
        for second in store.iter_endpoint_seconds(store.resolve("last").run_id, by_region=True):
            by_region[second.region][second.second] += second.requests
    _run, _requests, iterations = _per_second(db_url)
    # Once the late worker sends anything (its process takes a few seconds to
    # start), it has its share: from the second after, the two split the rate.
    first_late = min(by_region["late"], default=joined_s + 60)
    started = sorted(second for second, count in iterations.items() if count)
    after = [s for s in started[:-1] if s > first_late]
    assert len(after) >= 3, (joined_s, by_region)
    for second in after:
        assert iterations[second] == pytest.approx(rate_per_s, rel=0.05), iterations
        for region in ("first", "late"):
            share = by_region[region][second]
            assert share == pytest.approx(rate_per_s / 2, rel=0.1), (region, by_region)
