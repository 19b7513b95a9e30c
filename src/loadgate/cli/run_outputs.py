"""After a run: its summary, threshold verdicts, files and baseline comparison, and the exit code.

Everything here reads the stored run (DESIGN.md: the store is the seam), so what
`loadgate run` prints and writes is what `show`, `report` and `compare` give later.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from loadgate.analysis.compare_types import Comparison
from loadgate.analysis.thresholds import Threshold
from loadgate.analysis.thresholds_eval import all_passed
from loadgate.errors import ConfigError, ExitCode, OutputError
from loadgate.model import EndpointSecond, RunInfo, RunStatus, UsersSample
from loadgate.report.compare_view import comparison_section, print_comparison
from loadgate.report.csv_export import write_csv
from loadgate.report.html import ExtraSection
from loadgate.report.junit import write_junit
from loadgate.report.stored_run import (
    StoredRun,
    print_stored_run,
    write_stored_html,
    write_stored_json,
)
from loadgate.run_comparing import compare_stored, find_baseline
from loadgate.run_reading import keep_listing, read_stored_run
from loadgate.stats.timeline import Timeline
from loadgate.store import RunStore
from loadgate.store.run_view import read_run_view


@dataclass(frozen=True, kw_only=True)
class RunOutputs:
    """What to write and judge once the run has ended; None means: not asked for."""

    json_path: Path | None = None
    report_path: Path | None = None
    junit_path: Path | None = None
    csv_prefix: Path | None = None
    # Judged after the run from the stored run; here for the abort check during it.
    thresholds: tuple[Threshold, ...] = ()
    baseline_name: str | None = None
    # Locust's `--json` alone owns stdout (Locust's JSON): the tables go to stderr.
    tables_to_stderr: bool = False
    # Locust's --exit-code-on-error: the exit code of a run with failed requests or errors.
    exit_code_on_error: int = int(ExitCode.REQUESTS_FAILED)

    def files(self) -> list[tuple[str, Path]]:
        named = (
            ("JSON summary", self.json_path),
            ("HTML report", self.report_path),
            ("JUnit file", self.junit_path),
            ("CSV files", self.csv_prefix),
        )
        return [(what, path) for what, path in named if path is not None]

    def check_writable(self) -> None:
        """Create the output folders now: a bad path fails before the load, not after it."""
        for what, path in self.files():
            folder = path.absolute().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot write the {what} to {path}: {exc.strerror or exc}"
                ) from exc
            if path.is_dir():
                raise ConfigError(f"cannot write the {what} to {path}: it is a folder")


@dataclass(frozen=True, kw_only=True)
class RunEnd:
    """What decides the exit code, besides thresholds and the baseline (errors.py's table)."""

    interrupted: bool = False  # Ctrl-C or SIGTERM, as opposed to an abort-on-fail check
    process_exit_code: int | None = None  # the script's environment.process_exit_code
    unhandled_errors: int = 0  # exceptions in tasks or greenlets


def exit_code(
    end: RunEnd,
    *,
    has_thresholds: bool,
    thresholds_failed: bool,
    failed_requests: int,
    regression: bool,
    exit_code_on_error: int,
) -> int:
    """The first row of errors.py's exit code table that applies."""
    if end.process_exit_code is not None:
        return end.process_exit_code
    if end.interrupted:
        return int(ExitCode.INTERRUPTED)
    if thresholds_failed:
        return int(ExitCode.THRESHOLDS_FAILED)
    # With thresholds, they judge the errors (error_rate < 1% may allow some).
    if (failed_requests or end.unhandled_errors) and not has_thresholds:
        return exit_code_on_error
    if regression:
        return int(ExitCode.REGRESSION)
    return int(ExitCode.OK)


def finish(
    store: RunStore,
    run_id: int,
    outputs: RunOutputs,
    console: Console,
    notes: Console,
    *,
    interrupted: bool,
    end: RunEnd | None = None,
) -> int:
    """Print, write and judge the stored run; the exit code its end and verdicts call for.

    `interrupted`: stopped by Ctrl-C or SIGTERM, as opposed to an abort-on-fail check.
    """
    # One streamed read of the stored run serves the summary and the timeline;
    # the CSV history streams its seconds again only when asked for.
    view = read_run_view(store, store.get_run(run_id))
    if view.from_seconds and view.summary.run.ended_at is not None:
        # The fold just made is the run's totals: stored, `show` reads one row per endpoint.
        store.store_totals(run_id, view.fold)
    stored = read_stored_run(
        store,
        view.summary,
        view.series,
        view.parts,
        chart_on=view.timeline if outputs.report_path is not None else None,
    )
    keep_listing(store, stored)
    summary = stored.summary
    if outputs.tables_to_stderr:
        console = notes
    base, comparison = _compare_with_baseline(store, outputs.baseline_name, summary.run)
    sections: list[ExtraSection] = []
    if comparison is not None and base is not None:
        sections.append(comparison_section(comparison, base, summary.run))
    # The files first: whatever printing may meet (a closed pipe, a terminal
    # error), what was asked for is on disk.
    _write_files(outputs, stored, view.timeline, _StoredSeconds(store, run_id), sections)
    with _printing(run_id):
        print_stored_run(stored, console)
        if comparison is not None and base is not None:
            print_comparison(comparison, base, summary.run, console)
        elif outputs.baseline_name is not None:
            notes.print(
                Text(
                    f"no baseline of {outputs.baseline_name!r} to compare with yet "
                    f"(mark one with `loadgate baseline RUN`)"
                )
            )
    regression = comparison is not None and comparison.has_regression
    for what, path in outputs.files():
        notes.print(Text(f"{what}: {path}"))
    end = end if end is not None else RunEnd(interrupted=interrupted)
    return exit_code(
        end,
        has_thresholds=bool(stored.verdicts),
        # Not interrupted yet aborted: an abort-on-fail threshold stopped the run.
        thresholds_failed=not all_passed(stored.verdicts)
        or (summary.run.status is RunStatus.ABORTED and not end.interrupted),
        failed_requests=summary.total.failures,
        regression=regression,
        exit_code_on_error=outputs.exit_code_on_error,
    )


@contextmanager
def _printing(run_id: int) -> Iterator[None]:
    """A terminal that cannot take the summary (closed pipe, full disk) is one line, not a trace."""
    try:
        yield
    except OSError as exc:
        raise OutputError(
            f"cannot print the summary: {exc.strerror or exc}; run {run_id} is stored "
            f"(`loadgate show {run_id}`) and the files asked for are written"
        ) from exc


def _compare_with_baseline(
    store: RunStore, baseline_name: str | None, run: RunInfo
) -> tuple[RunInfo | None, Comparison | None]:
    """The baseline of `baseline_name` and the run compared with it, when both exist."""
    if baseline_name is None:
        return None, None
    base = find_baseline(store, baseline_name, run.run_id)
    return (None, None) if base is None else (base, compare_stored(store, base, run))


class _StoredSeconds:
    """A run's stored seconds, streamed from the store each time they are iterated."""

    def __init__(self, store: RunStore, run_id: int) -> None:
        self._store = store
        self._run_id = run_id

    def __iter__(self) -> Iterator[EndpointSecond]:
        return self._store.iter_endpoint_seconds(self._run_id)

    def users(self) -> list[UsersSample]:
        return self._store.user_samples(self._run_id)


def _write_files(
    outputs: RunOutputs,
    stored: StoredRun,
    timeline: Timeline,
    seconds: _StoredSeconds,
    sections: Sequence[ExtraSection],
) -> None:
    if outputs.json_path is not None:
        write_stored_json(stored, outputs.json_path)
    if outputs.junit_path is not None:
        write_junit(outputs.junit_path, stored.summary.run, stored.verdicts)
    if outputs.report_path is not None:
        write_stored_html(outputs.report_path, stored, timeline, extra_sections=sections)
    if outputs.csv_prefix is not None:
        write_csv(outputs.csv_prefix, stored.summary, seconds, seconds.users())
