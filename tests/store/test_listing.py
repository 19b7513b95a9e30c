"""The runs page's query: filters, keyset pages, the listed p95 and verdict, on every backend."""

from __future__ import annotations

from datetime import timedelta

from loadgate.model import RunStatus, ThresholdOutcome
from loadgate.store import RunStore
from loadgate.store.listing import RunFilter
from tests.builders import STARTED_AT, new_run


def _ids(store: RunStore, limit: int = 50, **where: object) -> list[int]:
    return [listing.run.run_id for listing in store.list_runs(limit, RunFilter(**where))]  # type: ignore[arg-type]


def test_filters_by_name_status_and_text(store: RunStore) -> None:
    checkout = store.create_run(new_run("checkout"))
    browse = store.create_run(new_run("browse", script_path="seed/Browse_100%.py"))
    other = store.create_run(new_run("checkout-eu", host="http://10.0.0.9:80"))
    store.finish_run(browse, RunStatus.ABORTED, STARTED_AT + timedelta(seconds=5))
    assert _ids(store, name="checkout") == [checkout]
    assert _ids(store, status=RunStatus.ABORTED) == [browse]
    assert _ids(store, text="CHECKOUT") == [other, checkout]
    assert _ids(store, text="10.0.0.9") == [other]
    # LIKE's wildcards are text: "100%" finds only the name that has it.
    assert _ids(store, text="_100%") == [browse]
    assert _ids(store, text="%") == [browse]


def test_pages_by_keyset_newest_first(store: RunStore) -> None:
    ids = [store.create_run(new_run(f"r{i}")) for i in range(7)]
    first = _ids(store, limit=3)
    second = _ids(store, limit=3, before_id=first[-1])
    third = _ids(store, limit=3, before_id=second[-1])
    assert first + second + third == ids[::-1]
    assert len(third) == 1


def test_lost_and_running_are_told_apart(store_url: str) -> None:
    with RunStore.open(store_url, lost_after_s=0.001) as store:
        store.create_run(new_run("dead"))  # never appended to: lost at once
        assert _ids(store, status=RunStatus.RUNNING) == []
        assert len(_ids(store, status=RunStatus.LOST)) == 1


def test_listed_p95_and_outcome_are_stored_and_read_back(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    [listing] = store.list_runs()
    assert (listing.p95_ms, listing.threshold_outcome) == (None, None)
    store.store_listing(run_id, (1.5, 12.5, 20.25), ThresholdOutcome.FAILED)
    [listing] = store.list_runs()
    assert (listing.p50_ms, listing.p95_ms, listing.p99_ms) == (1.5, 12.5, 20.25)
    assert listing.threshold_outcome is ThresholdOutcome.FAILED
