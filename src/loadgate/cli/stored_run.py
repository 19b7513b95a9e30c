"""A stored run read for its outputs: one function gathers what `run`, `show` and `report` show."""

from __future__ import annotations

from collections.abc import Sequence

from loadgate.analysis.findings import find_all
from loadgate.analysis.thresholds_eval import judge_stored
from loadgate.model import RunInfo, WorkerTotal
from loadgate.report.generator_view import GeneratorStalls
from loadgate.report.regions_view import region_summaries
from loadgate.report.stored_run import StoredRun
from loadgate.stats.parts import RunParts
from loadgate.stats.series import RunSeries
from loadgate.stats.summary import RunSummary
from loadgate.store import RunStore


def read_stored_run(
    store: RunStore,
    summary: RunSummary,
    series: RunSeries,
    parts: RunParts,
    *,
    expect_rate_limit: str | None = None,
    with_regions: bool = True,
) -> StoredRun:
    """`summary` and what is read and judged beside it; `series` and `parts` give the findings.

    `expect_rate_limit` replaces the limit the run was started with, if any.
    `with_regions`: split a multi-region run by region (one more read of its
    seconds); the HTML report does not show regions, so it does without.
    """
    run_id = summary.run.run_id
    workers = store.workers(run_id)
    findings = find_all(
        series, summary.run.settings, expect_rate_limit=expect_rate_limit, parts=parts
    )
    return StoredRun(
        summary=summary,
        stalls=GeneratorStalls(store.generator_seconds(run_id)),
        workers=workers,
        events=store.events(run_id),
        regions=by_region(store, summary.run, workers) if with_regions else {},
        findings=findings,
        verdicts=judge_stored(summary, findings),
        parts=parts,
    )


def by_region(
    store: RunStore, run: RunInfo, workers: Sequence[WorkerTotal]
) -> dict[str, RunSummary]:
    """Each region's summary, when the run's workers ran in more than one (one more read)."""
    if len({worker.region for worker in workers}) < 2:
        return {}
    return region_summaries(run, store.iter_endpoint_seconds(run.run_id, by_region=True))
