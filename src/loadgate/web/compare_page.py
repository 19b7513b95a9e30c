"""The compare page: two runs, or a run and its baseline, as `compare --report` shows them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from loadgate.errors import InputError, RunNotFoundError
from loadgate.model import RunInfo
from loadgate.report.compare_view import comparison_context
from loadgate.run_comparing import compare_stored, find_baseline
from loadgate.store import RunStore
from loadgate.web.rendering import page


def _run_of(store: RunStore, field: str, text: str) -> RunInfo:
    if not text.isdigit():
        raise InputError(f"{field} must be a run id (a whole number), not {text!r}")
    return store.get_run(int(text))


def compare_page(request: Request) -> Response:
    """GET /compare?candidate=ID[&base=ID]: without a base, the candidate's baseline.

    The baseline is what `loadgate run --baseline NAME` would compare with: the
    run of its name marked as baseline, else the newest completed one before it.
    """
    store: RunStore = request.app.state.store
    base_text = request.query_params.get("base", "").strip()
    candidate_text = request.query_params.get("candidate", "").strip()
    context: dict[str, object] = {"base_text": base_text, "candidate_text": candidate_text}
    if not candidate_text:
        return page(request, "compare_page.html.j2", context)
    candidate = _run_of(store, "candidate", candidate_text)
    if base_text:
        base = _run_of(store, "base", base_text)
    else:
        found = find_baseline(store, candidate.name, candidate.run_id)
        if found is None:
            raise RunNotFoundError(
                f"run {candidate.run_id} ({candidate.name!r}) has no baseline: no run of that "
                "name is marked as one, and no earlier one completed; give a base run id"
            )
        base = found
    if base.run_id == candidate.run_id:
        raise InputError(f"base and candidate are the same run ({base.run_id}): give two runs")
    comparison = compare_stored(store, base, candidate)
    context.update(comparison_context(comparison, base, candidate))
    context["compared"] = True
    return page(request, "compare_page.html.j2", context)
