"""Spill files: the measurements a run could not store, kept on local disk for `loadgate import`.

When the run store stops answering mid-run (a hung PostgreSQL, a SQLite file
locked by another program) or a second Ctrl-C leaves no time to wait for it,
what was measured but not yet stored is written here instead of being lost.

The format is JSON lines, one record per line, readable by anyone:

    {"spill": 1, "run": {run_id, store, name, script_path, script_text, host,
                         started_at, settings}}
    {"second": {second, method, name, requests, failures, bytes_received,
                histogram, ok_status_counts, failed_status_counts, errors,
                out_of_range}}          # histogram: HdrHistogram's base64 text
    {"users": {second, users}}
    {"generator": {second, stall_ms}}
    {"end": {status, reason, ended_at}}   # how the run ended, if it did

A spill holds only what the store lacks; `import_spill` appends it to the same
run when the store has it (same id, name and start), or else creates the run
from the header (then the seconds stored before the failure are not in it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadgate.errors import InputError, RunNotFoundError
from loadgate.model import EndpointSecond, GeneratorSecond, NewRun, RunStatus, UsersSample
from loadgate.store.runs import RunStore
from loadgate.store.url import data_folder

FORMAT_VERSION = 1
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
    seconds: Sequence[EndpointSecond] = ()
    users: Sequence[UsersSample] = ()
    generator: Sequence[GeneratorSecond] = ()
    end: RunEnd | None = None


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    run_id: int
    created: bool
    seconds: int
    requests: int
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
    for second in spill.seconds:
        yield {"second": _second_record(second)}
    for sample in spill.users:
        yield {"users": {"second": sample.second, "users": sample.users}}
    for generator in spill.generator:
        yield {"generator": {"second": generator.second, "stall_ms": generator.stall_ms}}
    if spill.end is not None:
        end = spill.end
        yield {"end": {"status": end.status.value, "reason": end.reason,
                       "ended_at": end.ended_at.isoformat()}}  # fmt: skip


def _second_record(second: EndpointSecond) -> dict[str, Any]:
    return {
        "second": second.second,
        "method": second.method,
        "name": second.name,
        "requests": second.requests,
        "failures": second.failures,
        "bytes_received": second.bytes_received,
        "histogram": second.histogram.decode("ascii"),  # HDR's encoding is base64 already
        "ok_status_counts": dict(second.ok_status_counts),
        "failed_status_counts": dict(second.failed_status_counts),
        "errors": dict(second.errors),
        "out_of_range": second.out_of_range,
    }


def read_spill(path: Path) -> Spill:
    """Read a spill file; InputError naming the file and line for anything else."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the spill file {path}: {exc.strerror or exc}") from exc
    try:
        return _parse(lines)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path} is not a loadgate spill file: {exc}") from exc


def _parse(lines: list[str]) -> Spill:
    records = [json.loads(line) for line in lines if line.strip()]
    if not records or records[0].get("spill") != FORMAT_VERSION:
        raise ValueError(f"the first line must be a header with spill={FORMAT_VERSION}")
    header = records[0]["run"]
    seconds, users, generator, end = [], [], [], None
    for record in records[1:]:
        if "second" in record:
            data = dict(record["second"])
            data["histogram"] = data["histogram"].encode("ascii")
            seconds.append(EndpointSecond(**data))
        elif "users" in record:
            users.append(UsersSample(**record["users"]))
        elif "generator" in record:
            generator.append(GeneratorSecond(**record["generator"]))
        elif "end" in record:
            data = record["end"]
            end = RunEnd(status=RunStatus(data["status"]), reason=data["reason"],
                         ended_at=datetime.fromisoformat(data["ended_at"]))  # fmt: skip
        else:
            raise ValueError(f"unknown record {sorted(record)}")
    run = NewRun(
        name=header["name"],
        script_path=header["script_path"],
        script_text=header["script_text"],
        host=header["host"],
        started_at=datetime.fromisoformat(header["started_at"]),
        settings=header["settings"],
    )
    return Spill(run_id=int(header["run_id"]), store_url=header["store"], run=run,
                 seconds=seconds, users=users, generator=generator, end=end)  # fmt: skip


def import_spill(store: RunStore, spill: Spill, path: Path) -> ImportResult:
    """Add the spill to its run in `store` (or to a new run made from its header)."""
    run_id, created = _target_run(store, spill, path)
    store.append(run_id, spill.seconds, spill.users, spill.generator)
    notes = []
    if created:
        notes.append(
            f"run {spill.run_id} of {spill.store_url} is not in {store.url}: created run "
            f"{run_id} with the spilled seconds only"
        )
    end = spill.end
    status = end.status if end is not None else RunStatus.FAILED
    reason = end.reason if end is not None else "the run's process ended before the run did"
    ended_at = end.ended_at if end is not None else _last_second_time(spill)
    store.finish_run(run_id, status, ended_at, f"{reason} ({IMPORTED_MARK} {path.name})")
    return ImportResult(
        run_id=run_id,
        created=created,
        seconds=len({s.second for s in spill.seconds}),
        requests=sum(s.requests for s in spill.seconds),
        notes=notes,
    )


def _target_run(store: RunStore, spill: Spill, path: Path) -> tuple[int, bool]:
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
        if f"{IMPORTED_MARK} {path.name}" in stored.status_reason:
            raise InputError(f"{path} was already imported into run {stored.run_id}")
        return stored.run_id, False
    return store.create_run(spill.run), True


def _last_second_time(spill: Spill) -> datetime:
    last = max((s.second for s in spill.seconds), default=None)
    if last is None:
        return spill.run.started_at
    return datetime.fromtimestamp(last + 1, UTC)
