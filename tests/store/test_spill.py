"""Spill files: written whole, read back exactly, imported once into the right run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadgate.errors import InputError
from loadgate.model import (
    ArrivalSecond,
    EventKind,
    GeneratorSecond,
    MeasuredBatch,
    Part,
    RunEvent,
    RunStatus,
    UsersSample,
)
from loadgate.scraped import ScrapeSecond, SeriesKey, SeriesKind
from loadgate.stats import LatencyHistogram
from loadgate.store import RunStore
from loadgate.store.spill import RunEnd, Spill, import_spill, read_spill, write_spill
from tests.builders import endpoint_second, new_run

ENDED_AT = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
LOST = RunEvent(
    second=1_772_366_411, kind=EventKind.WORKER_LOST, subject="w1", detail={"region": "eu"}
)


def _batches() -> list[MeasuredBatch]:
    return [
        MeasuredBatch(
            batch_id="a" * 32,
            seconds=[
                endpoint_second(
                    1_772_366_410,
                    ok={"200": 2},
                    failed={"500": 1},
                    errors={"é [/b]": 1},
                    parts={Part.CACHE_HIT: [120, 130], Part.UPSTREAM: [900]},
                ),
            ],
            users=[UsersSample(second=1_772_366_410, users=3)],
            generator=[GeneratorSecond(second=1_772_366_410, stall_ms=1.25)],
            events=[],
            arrivals=[
                ArrivalSecond(
                    second=1_772_366_410,
                    iterations=9,
                    dropped_iterations=2,
                    start_lag=LatencyHistogram().encode(),
                )
            ],
        ),
        MeasuredBatch(
            batch_id="b" * 32,
            seconds=[endpoint_second(1_772_366_411)],
            users=[],
            generator=[],
            events=[LOST],
            arrivals=[],
        ),
    ]


METRICS = "http://127.0.0.1:9/metrics"
INFLIGHT = SeriesKey(METRICS, "inflight", (("route", "</b>é"),), SeriesKind.GAUGE)
UPSTREAM_RATE = SeriesKey(METRICS, "upstream_requests", (), SeriesKind.RATE)


def _scrapes() -> list[ScrapeSecond]:
    return [
        ScrapeSecond(url=METRICS, second=1_772_366_410, values={INFLIGHT: 4.0, UPSTREAM_RATE: 9.5}),
        ScrapeSecond(url=METRICS, second=1_772_366_411, error="timed out after 0.8 s"),
        ScrapeSecond(
            url=METRICS,
            second=1_772_366_412,
            values={INFLIGHT: 2.0},
            series_dropped=3,
            dropped_example="other_series",
        ),
    ]


def _spill(run_id: int, store_url: str) -> Spill:
    return Spill(
        run_id=run_id,
        store_url=store_url,
        run=new_run(),
        batches=_batches(),
        scrapes=_scrapes(),
        end=RunEnd(status=RunStatus.ABORTED, reason="interrupted by SIGINT", ended_at=ENDED_AT),
    )


def test_a_spill_reads_back_what_was_written(tmp_path: Path) -> None:
    spill = _spill(7, "sqlite:///x.db")
    path = write_spill(spill, tmp_path / "spill" / "run-7.jsonl")
    assert read_spill(path) == spill
    assert not list(path.parent.glob("*.partial"))


def test_import_adds_to_the_same_run_and_only_once(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, [endpoint_second(1_772_366_409)])
    path = write_spill(_spill(run_id, store.url), tmp_path / "run.jsonl")

    result = import_spill(store, read_spill(path), path)

    assert (result.run_id, result.created, result.seconds) == (run_id, False, 2)
    run = store.get_run(run_id)
    assert run.status is RunStatus.ABORTED
    assert run.status_reason.startswith("interrupted by SIGINT (imported from spill file")
    assert run.ended_at == ENDED_AT
    assert store.summary(run_id).total.requests == 3 + 3 + 3
    assert store.generator_seconds(run_id) == [GeneratorSecond(second=1_772_366_410, stall_ms=1.25)]
    assert store.events(run_id) == [LOST]
    assert list(store.iter_arrival_seconds(run_id)) == list(_batches()[0].arrivals)
    assert [(p.part, p.requests) for p in store.iter_part_seconds(run_id)] == [
        (Part.CACHE_HIT, 2),
        (Part.UPSTREAM, 1),
    ]
    with pytest.raises(InputError, match="already imported"):
        import_spill(store, read_spill(path), path)


def test_a_batch_both_stored_and_spilled_is_counted_once(store: RunStore, tmp_path: Path) -> None:
    # The writer's commit of the first batch landed as the process exited,
    # after the spill had read it as pending: it is in the store and in the file.
    run_id = store.create_run(new_run())
    stored, unstored = _batches()
    assert store.append_batches(run_id, [stored]) == [stored]
    path = write_spill(_spill(run_id, store.url), tmp_path / "run.jsonl")

    result = import_spill(store, read_spill(path), path)

    assert (result.skipped_batches, result.seconds, result.requests) == (1, 1, 3)
    assert "1 of the file's 2 batches were already in run" in result.notes[0]
    assert store.summary(run_id).total.requests == 3 + 3, "each batch counted once"
    assert store.get_run(run_id).status is RunStatus.ABORTED
    assert len(store.generator_seconds(run_id)) == 1
    assert [u.users for u in store.user_samples(run_id)] == [3]
    assert unstored.batch_id != stored.batch_id


def test_scrapes_are_imported_once_into_the_series_the_run_has(
    store: RunStore, tmp_path: Path
) -> None:
    # The first scrape was stored before the store failed, the rest spilled with it.
    run_id = store.create_run(new_run())
    first, *rest = _scrapes()
    store.append_scrapes(run_id, [first])
    path = write_spill(_spill(run_id, store.url), tmp_path / "run.jsonl")

    result = import_spill(store, read_spill(path), path)

    assert result.scrapes == len(rest)
    scraped = store.scraped(run_id, lambda key: True)
    assert [(t.scrapes, t.gap_seconds) for t in scraped.targets] == [(3, (1_772_366_411,))]
    assert sorted(s.key for s in scraped.series) == sorted([INFLIGHT, UPSTREAM_RATE]), "no twin"
    assert scraped.samples[INFLIGHT] == {1_772_366_410: 4.0, 1_772_366_412: 2.0}
    assert scraped.samples[UPSTREAM_RATE] == {1_772_366_410: 9.5}


def test_a_renamed_spill_file_is_refused_the_second_time(store: RunStore, tmp_path: Path) -> None:
    # A run this store does not have: the import creates one; a copy under
    # another name must not create (or add to) a second.
    path = write_spill(_spill(999, "postgresql://elsewhere/db"), tmp_path / "run.jsonl")
    first = import_spill(store, read_spill(path), path)
    renamed = path.rename(tmp_path / "copy-of-run.jsonl")

    with pytest.raises(InputError, match=rf"already imported into run {first.run_id}"):
        import_spill(store, read_spill(renamed), renamed)

    assert [listing.run.run_id for listing in store.list_runs()] == [first.run_id]
    assert store.summary(first.run_id).total.requests == 6


def test_an_imported_run_has_its_totals_stored(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, [endpoint_second(1_772_366_409)])
    path = write_spill(_spill(run_id, store.url), tmp_path / "run.jsonl")
    import_spill(store, read_spill(path), path)

    stored = store.stored_fold(run_id)
    assert stored is not None, "show and runs read one row per endpoint"
    assert [(t.name, t.requests) for t in stored.totals()] == [("/items", 9)]


def test_a_version_1_file_is_still_imported_once(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create_run(new_run())
    lines = write_spill(_spill(run_id, store.url), tmp_path / "v2.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    del header["spill_id"]
    header["spill"] = 1
    v1 = [json.dumps(header), *(line for line in lines[1:] if '"batch"' not in line)]
    path = tmp_path / "v1.jsonl"
    path.write_text("\n".join(v1) + "\n")

    spill = read_spill(path)
    assert len(spill.batches) == 1
    import_spill(store, spill, path)
    copy = tmp_path / "v1-copy.jsonl"
    copy.write_text(path.read_text())
    with pytest.raises(InputError, match="already imported"):
        import_spill(store, read_spill(copy), copy)
    assert store.summary(run_id).total.requests == 6


def test_a_run_missing_from_the_store_is_created(store: RunStore, tmp_path: Path) -> None:
    path = write_spill(_spill(999, "postgresql://elsewhere/db"), tmp_path / "run.jsonl")
    result = import_spill(store, read_spill(path), path)
    assert result.created
    assert "created run" in result.notes[0]
    assert store.summary(result.run_id).total.requests == 6


def test_a_file_that_is_not_a_spill_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(InputError, match=r"notes.jsonl is not a loadgate spill file"):
        read_spill(path)
