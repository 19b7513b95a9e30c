"""The runs page: every stored run, newest first, filtered, a page at a time.

Each row comes from the `runs` table alone (counts kept as the run goes, p95
and verdict stored when it ends); an ended run stored before those columns
existed gets them computed once, when a page first lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from loadgate.errors import InputError
from loadgate.model import RunListing, RunStatus
from loadgate.report.terminal import format_duration, format_ms
from loadgate.run_reading import keep_listing, read_whole_run
from loadgate.store import RunStore
from loadgate.store.listing import RunFilter
from loadgate.web.rendering import page

PAGE_SIZE = 50


@dataclass(frozen=True, kw_only=True)
class RunRow:
    """One row of the runs page, as text."""

    run_id: int
    name: str
    script_path: str
    host: str
    started: str
    duration: str
    requests: str
    rps: str
    p95: str
    error_rate: str
    status: str
    verdict: str
    is_baseline: bool


def run_filter(request: Request) -> RunFilter:
    """The page's filter from its query string; a value it cannot use is an InputError."""
    params = request.query_params
    status_text = params.get("status", "").strip()
    try:
        status = RunStatus(status_text) if status_text else None
    except ValueError:
        known = ", ".join(s.value for s in RunStatus)
        raise InputError(f"status must be one of {known}, not {status_text!r}") from None
    before_text = params.get("before", "").strip()
    if before_text and not before_text.isdigit():
        raise InputError(f"before must be a run id (a whole number), not {before_text!r}")
    return RunFilter(
        name=params.get("name", "").strip() or None,
        status=status,
        text=params.get("q", "").strip() or None,
        before_id=int(before_text) if before_text else None,
    )


def run_row(listing: RunListing) -> RunRow:
    run = listing.run
    duration_s = run.elapsed_s
    rps = listing.requests / duration_s if duration_s > 0 else 0.0
    return RunRow(
        run_id=run.run_id,
        name=run.name,
        script_path=run.script_path,
        host=run.host,
        started=f"{run.started_at:%Y-%m-%d %H:%M:%S}",
        duration=format_duration(duration_s),
        requests=f"{listing.requests:,}",
        rps=f"{rps:,.1f}",
        p95="–" if listing.p95_ms is None else f"{format_ms(listing.p95_ms)} ms",
        error_rate=f"{listing.error_rate:.2%}",
        status=run.status.value,
        verdict="–" if listing.threshold_outcome is None else listing.threshold_outcome.value,
        is_baseline=run.is_baseline,
    )


def listed(store: RunStore, where: RunFilter) -> list[RunListing]:
    """A page of runs; ended ones without their listed numbers get them computed and stored."""
    listings = store.list_runs(PAGE_SIZE, where)
    if all(listing.p95_ms is not None or listing.run.ended_at is None for listing in listings):
        return listings
    for listing in listings:
        if listing.p95_ms is None and listing.run.ended_at is not None:
            keep_listing(store, read_whole_run(store, listing.run))
    return store.list_runs(PAGE_SIZE, where)


def runs_page(request: Request) -> Response:
    """GET /runs"""
    store: RunStore = request.app.state.store
    where = run_filter(request)
    listings = listed(store, where)
    next_query = None
    if len(listings) == PAGE_SIZE:
        kept = {k: v for k, v in request.query_params.items() if k != "before" and v}
        next_query = urlencode({**kept, "before": listings[-1].run.run_id})
    return page(
        request,
        "runs.html.j2",
        {
            "rows": [run_row(listing) for listing in listings],
            "where": where,
            "statuses": [s.value for s in RunStatus],
            "next_query": next_query,
        },
    )
