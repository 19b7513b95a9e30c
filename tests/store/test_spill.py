"""Spill files: written whole, read back exactly, imported once into the right run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadgate.errors import InputError
from loadgate.model import GeneratorSecond, RunStatus, UsersSample
from loadgate.store import RunStore
from loadgate.store.spill import RunEnd, Spill, import_spill, read_spill, write_spill
from tests.builders import endpoint_second, new_run

ENDED_AT = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def _spill(run_id: int, store_url: str) -> Spill:
    return Spill(
        run_id=run_id,
        store_url=store_url,
        run=new_run(),
        seconds=[
            endpoint_second(1_772_366_410, ok={"200": 2}, failed={"500": 1}, errors={"é [/b]": 1}),
            endpoint_second(1_772_366_411),
        ],
        users=[UsersSample(second=1_772_366_410, users=3)],
        generator=[GeneratorSecond(second=1_772_366_410, stall_ms=1.25)],
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
    with pytest.raises(InputError, match="already imported"):
        import_spill(store, read_spill(path), path)


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
