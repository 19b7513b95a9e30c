"""Two stored runs compared, and the run a new one is compared with (compare, run, dashboard)."""

from __future__ import annotations

from loadgate.analysis.compare import RunOutline, compare_runs
from loadgate.analysis.compare_types import CompareSettings, Comparison
from loadgate.model import RunInfo, RunStatus
from loadgate.store import RunStore
from loadgate.store.listing import RunFilter


def compare_stored(
    store: RunStore,
    base: RunInfo,
    candidate: RunInfo,
    settings: CompareSettings | None = None,
) -> Comparison:
    """Compare two stored runs; req/s over each run's recorded duration.

    Each run's seconds are folded as they are read (one second in memory).
    """
    base_outline, candidate_outline = (_outline(store, run) for run in (base, candidate))
    return compare_runs(
        store.iter_endpoint_seconds(base.run_id) if base_outline else (),
        store.iter_endpoint_seconds(candidate.run_id) if candidate_outline else (),
        base_duration_s=base.duration_s or None,
        candidate_duration_s=candidate.duration_s or None,
        settings=settings,
        base_outline=base_outline,
        candidate_outline=candidate_outline,
    )


def _outline(store: RunStore, run: RunInfo) -> RunOutline | None:
    """The run's span and, when it has stored totals, its endpoints' merged histograms."""
    span = store.second_span(run.run_id, with_users=False)
    if span is None:
        return None
    stored = store.stored_fold(run.run_id)
    histograms = (
        None
        if stored is None
        else {key: endpoint.histogram for key, endpoint in stored.endpoints.items()}
    )
    return RunOutline(first_second=span[0], last_second=span[1], histograms=histograms)


def find_baseline(store: RunStore, name: str, before_run_id: int) -> RunInfo | None:
    """What `run --baseline NAME` compares with.

    The run of that name marked with `loadgate baseline`, else the newest
    completed run of that name created before `before_run_id`; None if neither.
    """
    marked = store.latest_baseline(name)
    if marked is not None and marked.run_id != before_run_id:
        return marked
    earlier = RunFilter(name=name, status=RunStatus.COMPLETED, before_id=before_run_id)
    found = store.list_runs(1, earlier)
    return found[0].run if found else None
