"""A stored run read for its outputs, as `run`, `show`, `report` and the dashboard show it."""

from __future__ import annotations

from collections.abc import Sequence

from loadgate.analysis.findings import find_all
from loadgate.analysis.thresholds_eval import Verdict, all_passed, judge_stored
from loadgate.analysis.upstream_signals import read_by_findings
from loadgate.model import RunInfo, ThresholdOutcome, WorkerTotal
from loadgate.report.generator_view import GeneratorStalls
from loadgate.report.regions_view import region_summaries
from loadgate.report.scraped_charts import SeriesChoice, chart_buckets
from loadgate.report.stored_run import StoredRun
from loadgate.stats.arrivals import add_up
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.series import RunSeries, is_ramp
from loadgate.stats.summary import RunSummary
from loadgate.stats.timeline import Timeline
from loadgate.store import RunStore
from loadgate.store.run_view import RunRange, read_run_parts, read_run_series, read_run_view


def read_stored_run(
    store: RunStore,
    summary: RunSummary,
    series: RunSeries,
    parts: RunParts,
    *,
    expect_rate_limit: str | None = None,
    with_regions: bool = True,
    chart_on: Timeline | None = None,
    chart_series: str | None = None,
) -> StoredRun:
    """`summary` and what is read and judged beside it; `series` and `parts` give the findings.

    `expect_rate_limit` replaces the limit the run was started with, if any.
    `with_regions`: split a multi-region run by region (one more read of its
    seconds); the HTML report does not show regions, so it does without.
    `chart_on`: the timeline the HTML report will draw, when it will: the
    charted scraped series are read averaged over its buckets; those whose
    name `chart_series` finds, if given, else the run's own choice.
    """
    run_id = summary.run.run_id
    workers = store.workers(run_id)
    choice = (
        SeriesChoice(chart_series)
        if chart_series is not None
        else SeriesChoice.of_settings(summary.run.settings)
    )
    scraped = store.scraped(
        run_id,
        # Per second, as the findings' series: only for a read short enough to keep one.
        read_by_findings if not series.skipped_span_s else lambda key: False,
        charted=choice.wants if chart_on is not None else None,
        buckets=chart_buckets(chart_on) if chart_on is not None else None,
    )
    findings = find_all(
        series,
        summary.run.settings,
        expect_rate_limit=expect_rate_limit,
        scraped=scraped,
        parts=parts,
    )
    arrivals = add_up(store.iter_arrival_seconds(run_id))
    return StoredRun(
        summary=summary,
        stalls=GeneratorStalls(store.generator_seconds(run_id)),
        arrivals=arrivals,
        workers=workers,
        events=store.events(run_id),
        regions=by_region(store, summary.run, workers) if with_regions else {},
        findings=findings,
        verdicts=judge_stored(summary, findings, arrivals),
        scraped=scraped,
        series=series,
        parts=parts,
    )


def by_region(
    store: RunStore, run: RunInfo, workers: Sequence[WorkerTotal]
) -> dict[str, RunSummary]:
    """Each region's summary, when the run's workers ran in more than one (one more read)."""
    if len({worker.region for worker in workers}) < 2:
        return {}
    return region_summaries(run, store.iter_endpoint_seconds(run.run_id, by_region=True))


def threshold_outcome(verdicts: Sequence[Verdict]) -> ThresholdOutcome:
    if not verdicts:
        return ThresholdOutcome.NONE
    return ThresholdOutcome.PASSED if all_passed(verdicts) else ThresholdOutcome.FAILED


def keep_listing(store: RunStore, stored: StoredRun) -> bool:
    """Store what lists show of an ended run (p50, p95, p99, verdict); True if stored.

    A running or lost run is listed without them: its numbers still change.
    """
    run = stored.summary.run
    if not run.has_settled:
        return False
    total = stored.summary.total
    percentiles_ms = (total.p50_ms, total.p95_ms, total.p99_ms)
    store.store_listing(run.run_id, percentiles_ms, threshold_outcome(stored.verdicts))
    return True


def read_whole_run(
    store: RunStore, run: RunInfo, *, expect_rate_limit: str | None = None
) -> StoredRun:
    """The run as `loadgate show` shows it: the summary from the totals, findings from the seconds.

    The seconds' histograms are decoded only on a ramp (for the saturation finding).
    """
    users = store.user_samples(run.run_id)
    series = read_run_series(store, run, users, latency=is_ramp(users))
    # Parts are read from every second (no stored totals): not for a read
    # too long for the findings either, so `show` of a long run stays quick.
    parts = NO_PARTS if series.skipped_span_s else read_run_parts(store, run, users)
    return read_stored_run(
        store, store.summary(run.run_id), series, parts, expect_rate_limit=expect_rate_limit
    )


def read_for_report(
    store: RunStore,
    run: RunInfo,
    *,
    within: RunRange | None = None,
    expect_rate_limit: str | None = None,
    chart_series: str | None = None,
) -> tuple[StoredRun, Timeline]:
    """The run as its HTML report shows it (`within` a range of it, if given), and its timeline.

    Summary and timeline come from the same read, so a run still being written
    shows the same numbers in its tables and its charts. Regions are not
    read: the report does not show them.
    """
    view = read_run_view(store, run, within=within)
    if within is None and view.from_seconds:
        # The whole run was folded: an ended run keeps it as its totals.
        store.keep_totals(run, view.fold)
    stored = read_stored_run(
        store, view.summary, view.series, view.parts, expect_rate_limit=expect_rate_limit,
        with_regions=False, chart_on=view.timeline, chart_series=chart_series,
    )  # fmt: skip
    return stored, view.timeline
