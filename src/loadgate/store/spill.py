"""Spill files: the measurements a run could not store, kept on local disk for `loadgate import`.

When the run store stops answering mid-run (a hung PostgreSQL, a SQLite file
locked by another program) or a second Ctrl-C leaves no time to wait for it,
what was measured but not yet stored is written here instead of being lost.

The format is JSON lines, one record per line, readable by anyone:

    {"spill": 4, "spill_id": UUID, "run": {run_id, store, name, script_path,
                 script_text, host, started_at, settings}}
    {"batch": BATCH_ID}                 # the records up to the next batch line
    {"second": {second, method, name, requests, failures, bytes_received,
                histogram, ok_status_counts, failed_status_counts, errors,
                out_of_range, region, parts}}  # store.codec.endpoint_second_dict
                                        # (parts: since version 4)
    {"users": {second, users}}
    {"generator": {second, stall_ms}}
    {"event": {second, kind, subject, detail}}  # since version 3 (a worker lost)
    {"arrival": {second, iterations, dropped_iterations, start_lag,
                 out_of_range}}       # since version 4 (the open model)
    {"scrape": {url, second, values: [[name, labels, kind, value], ...],
                error, series_dropped, dropped_example}}
                                      # since version 5 (--scrape): after the batches
    {"end": {status, reason, ended_at}}   # how the run ended, if it did

A spill holds what the store may lack: a batch whose commit was landing as the
process exited is in both, under the id the writer gave it. `import_spill`
appends the batches the run has not applied yet (RunStore.append_batches), and
records the file's own id with them, in one transaction: a batch is never
counted twice, and the same file imported again, under any name, is refused.
The batches go to the same run when the store has it (same id, name and
start), or else to a run created from the header (then the seconds stored
before the failure are not in it). Version 1 files (no ids) are read as one
batch, with ids derived from their content. Scrapes are not in batches: the
import adds those whose URL and second the run lacks.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadgate.errors import InputError, RunNotFoundError
from loadgate.model import (
    ArrivalSecond,
    EndpointSecond,
    EventKind,
    GeneratorSecond,
    MeasuredBatch,
    NewRun,
    RunEvent,
    RunStatus,
    UsersSample,
)
from loadgate.scraped import ScrapeSecond
from loadgate.store.codec import (
    arrival_second_dict,
    arrival_second_from_dict,
    endpoint_second_dict,
    endpoint_second_from_dict,
    scrape_second_dict,
    scrape_second_from_dict,
)
from loadgate.store.runs import RunStore
from loadgate.store.url import data_folder

FORMAT_VERSION = 5
_READABLE_VERSIONS = (1, 2, 3, 4, 5)
IMPORTED_MARK = "imported from spill file"


@dataclass(frozen=True, kw_only=True)
class RunEnd:
    status: RunStatus
    reason: str
    ended_at: datetime


@dataclass(frozen=True, kw_only=True)
class Spill:
    """A spill file's content."""

    run_id: int
    store_url: str
    run: NewRun
    batches: Sequence[MeasuredBatch] = ()
    scrapes: Sequence[ScrapeSecond] = ()  # what --scrape read and the store did not take
    end: RunEnd | None = None
    # The file's identity, whatever it is renamed to: recorded by the import.
    spill_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def seconds(self) -> list[EndpointSecond]:
        return [s for batch in self.batches for s in batch.seconds]


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    run_id: int
    created: bool
    seconds: int
    requests: int
    skipped_batches: int = 0  # already in the store: stored as well as spilled
    scrapes: int = 0  # scrapes added (one URL's scrape of one second)
    notes: list[str] = field(default_factory=list)


def spill_folder() -> Path:
    return data_folder() / "spill"


def spill_path(run_id: int, folder: Path | None = None) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return (folder or spill_folder()) / f"run-{run_id}-{stamp}.jsonl"


def write_spill(spill: Spill, path: Path) -> Path:
    """Write the file (complete or not at all: a temporary name, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    with temporary.open("w", encoding="utf-8") as file:
        for record in _records(spill):
            file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    return path


def _records(spill: Spill) -> Iterator[dict[str, Any]]:
    run = spill.run
    yield {
        "spill": FORMAT_VERSION,
        "spill_id": spill.spill_id,
        "run": {
            "run_id": spill.run_id,
            "store": spill.store_url,
            "name": run.name,
            "script_path": run.script_path,
            "script_text": run.script_text,
            "host": run.host,
            "started_at": run.started_at.isoformat(),
            "settings": dict(run.settings),
        },
    }
    for batch in spill.batches:
        yield {"batch": batch.batch_id}
        yield from _batch_records(batch)
    for scrape in spill.scrapes:
        yield {"scrape": scrape_second_dict(scrape)}
    if spill.end is not None:
        end = spill.end
        yield {"end": {"status": end.status.value, "reason": end.reason,
                       "ended_at": end.ended_at.isoformat()}}  # fmt: skip


def _batch_records(batch: MeasuredBatch) -> Iterator[dict[str, Any]]:
    for second in batch.seconds:
        yield {"second": endpoint_second_dict(second)}
    for sample in batch.users:
        yield {"users": {"second": sample.second, "users": sample.users}}
    for generator in batch.generator:
        yield {"generator": {"second": generator.second, "stall_ms": generator.stall_ms}}
    for event in batch.events:
        yield {"event": {"second": event.second, "kind": event.kind.value,
                         "subject": event.subject, "detail": dict(event.detail)}}  # fmt: skip
    for arrival in batch.arrivals:
        yield {"arrival": arrival_second_dict(arrival)}


def read_spill(path: Path) -> Spill:
    """Read a spill file; InputError naming the file and line for anything else."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the spill file {path}: {exc.strerror or exc}") from exc
    try:
        return _parse(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path} is not a loadgate spill file: {exc}") from exc


class _Batches:
    """The batches of a file as its records come: a batch line starts the next one."""

    def __init__(self, first_id: str) -> None:
        self.done: list[MeasuredBatch] = []
        self._id = first_id
        self._seconds: list[EndpointSecond] = []
        self._users: list[UsersSample] = []
        self._generator: list[GeneratorSecond] = []
        self._events: list[RunEvent] = []
        self._arrivals: list[ArrivalSecond] = []

    def start(self, batch_id: str) -> None:
        self.close()
        self._id = batch_id

    def add(self, record: dict[str, Any]) -> None:
        if "second" in record:
            self._seconds.append(endpoint_second_from_dict(record["second"]))
        elif "users" in record:
            self._users.append(UsersSample(**record["users"]))
        elif "generator" in record:
            self._generator.append(GeneratorSecond(**record["generator"]))
        elif "event" in record:
            data = record["event"]
            self._events.append(RunEvent(second=int(data["second"]), kind=EventKind(data["kind"]),
                                         subject=str(data["subject"]),
                                         detail=dict(data["detail"])))  # fmt: skip
        elif "arrival" in record:
            self._arrivals.append(arrival_second_from_dict(record["arrival"]))
        else:
            raise ValueError(f"unknown record {sorted(record)}")

    def close(self) -> None:
        if self._seconds or self._users or self._generator or self._events or self._arrivals:
            batch = MeasuredBatch(batch_id=self._id, seconds=self._seconds, users=self._users,
                                  generator=self._generator, events=self._events,
                                  arrivals=self._arrivals)  # fmt: skip
            self.done.append(batch)
        self._seconds, self._users, self._generator, self._events = [], [], [], []
        self._arrivals = []


def _parse(text: str) -> Spill:
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not records or records[0].get("spill") not in _READABLE_VERSIONS:
        raise ValueError(f"the first line must be a header with spill={FORMAT_VERSION}")
    header = records[0]
    # Version 1 had no ids: the content's hash stands in for the file's and its one batch's.
    content_id = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    spill_id = str(header.get("spill_id", f"v1-{content_id}"))
    batches, end = _Batches(first_id=f"v1-{content_id}"), None
    scraped: list[ScrapeSecond] = []
    for record in records[1:]:
        if "batch" in record:
            batches.start(str(record["batch"]))
        elif "scrape" in record:
            scraped.append(scrape_second_from_dict(record["scrape"]))
        elif "end" in record:
            data = record["end"]
            end = RunEnd(status=RunStatus(data["status"]), reason=data["reason"],
                         ended_at=datetime.fromisoformat(data["ended_at"]))  # fmt: skip
        else:
            batches.add(record)
    batches.close()
    return Spill(run_id=int(header["run"]["run_id"]), store_url=header["run"]["store"],
                 run=_new_run(header["run"]), batches=batches.done, scrapes=scraped,
                 end=end, spill_id=spill_id)  # fmt: skip


def _new_run(header: dict[str, Any]) -> NewRun:
    return NewRun(
        name=header["name"],
        script_path=header["script_path"],
        script_text=header["script_text"],
        host=header["host"],
        started_at=datetime.fromisoformat(header["started_at"]),
        settings=header["settings"],
    )


def import_spill(store: RunStore, spill: Spill, path: Path) -> ImportResult:
    """Add the spill to its run in `store` (or to a new run made from its header).

    The run is ended first: an import cut short is then completed by running
    it again (the batches applied meanwhile are skipped). Its per-endpoint
    totals are stored last, as `loadgate run` does, so that summaries read one
    row per endpoint.
    """
    marker = f"spill-{spill.spill_id}"
    imported_into = store.applied_to(marker)
    if imported_into is not None:
        raise InputError(
            f"{path} was already imported into run {imported_into} (spill file {spill.spill_id})"
        )
    run_id, created = _target_run(store, spill)
    end = spill.end
    status = end.status if end is not None else RunStatus.FAILED
    reason = end.reason if end is not None else "the run's process ended before the run did"
    ended_at = end.ended_at if end is not None else _last_second_time(spill)
    store.finish_run(run_id, status, ended_at, f"{reason} ({IMPORTED_MARK} {path.name})")
    # The file's own id goes in with its batches: imported whole, or not at all.
    appended = store.append_batches(run_id, [*spill.batches, MeasuredBatch(batch_id=marker)])
    scrapes = store.append_missing_scrapes(run_id, spill.scrapes) if spill.scrapes else 0
    store.store_totals(run_id)
    added = [batch for batch in appended if batch.batch_id != marker]
    skipped = len(spill.batches) - len(added)
    return ImportResult(
        run_id=run_id,
        created=created,
        seconds=len({s.second for batch in added for s in batch.seconds}),
        requests=sum(s.requests for batch in added for s in batch.seconds),
        skipped_batches=skipped,
        scrapes=scrapes,
        notes=_notes(spill, store, run_id, created=created, skipped=skipped),
    )


def _notes(spill: Spill, store: RunStore, run_id: int, *, created: bool, skipped: int) -> list[str]:
    notes = []
    if created:
        notes.append(
            f"run {spill.run_id} of {spill.store_url} is not in {store.url}: created run "
            f"{run_id} with the spilled seconds only"
        )
    if skipped:
        notes.append(
            f"{skipped} of the file's {len(spill.batches)} batches were already in run {run_id} "
            f"(stored as the run ended) and were not added again"
        )
    return notes


def _target_run(store: RunStore, spill: Spill) -> tuple[int, bool]:
    try:
        stored = store.get_run(spill.run_id)
    except RunNotFoundError:
        stored = None
    same = (
        stored is not None
        and stored.name == spill.run.name
        and stored.started_at == spill.run.started_at.astimezone(UTC)
    )
    if stored is not None and same:
        return stored.run_id, False
    return store.create_run(spill.run), True


def _last_second_time(spill: Spill) -> datetime:
    last = max((s.second for s in spill.seconds), default=None)
    if last is None:
        return spill.run.started_at
    return datetime.fromtimestamp(last + 1, UTC)
