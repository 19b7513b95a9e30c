"""A run's page and its downloads: the report's own sections, rendered by the report's code."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from loadgate.errors import RunNotFoundError
from loadgate.model import RunInfo, RunStatus
from loadgate.report.csv_export import stats_csv
from loadgate.report.junit import junit_xml
from loadgate.report.stored_run import render_stored_html, stored_report_context, stored_run_to_json
from loadgate.run_reading import read_for_report, read_whole_run
from loadgate.store import RunStore
from loadgate.web.launcher import Launcher
from loadgate.web.page_cache import PageCache, page_key
from loadgate.web.rendering import environment, page


def requested_run(request: Request, parameter: str = "run_ref") -> RunInfo:
    """The run a path names by id; anything else is a RunNotFoundError (404) saying so."""
    store: RunStore = request.app.state.store
    text = str(request.path_params[parameter])
    if not text.isdigit():
        raise RunNotFoundError(f"no run {text!r}: a run is named by its id, a whole number")
    return store.get_run(int(text))


def run_page(request: Request) -> Response:
    """GET /runs/ID: the charts and tables of the HTML report, and links to download it."""
    store: RunStore = request.app.state.store
    cache: PageCache = request.app.state.page_cache
    launcher: Launcher = request.app.state.launcher
    run = requested_run(request)
    report_html = cache.get_or_render(page_key(run), lambda: _report_sections(store, run))
    context = {
        "run": run,
        # Markup: rendered by our templates, with autoescape, from the store.
        "report_html": Markup(report_html),
        "downloads": [(name, label) for name, (label, _, _) in DOWNLOADS.items()],
        "live": run.status is RunStatus.RUNNING,
        "stoppable": launcher.launch_of_run(run.run_id) is not None,
    }
    return page(request, "run.html.j2", context)


def _report_sections(store: RunStore, run: RunInfo) -> str:
    """The report's header and sections of the run, as the one-file report has them."""
    context = stored_report_context(*read_for_report(store, run))
    return environment().get_template("run_report.html.j2").render(context)


def _report_html(store: RunStore, run: RunInfo) -> str:
    return render_stored_html(*read_for_report(store, run))


def _summary_json(store: RunStore, run: RunInfo) -> str:
    return stored_run_to_json(read_whole_run(store, run))


def _stats_csv(store: RunStore, run: RunInfo) -> str:
    return stats_csv(store.summary(run.run_id))


def _junit_xml(store: RunStore, run: RunInfo) -> bytes:
    stored = read_whole_run(store, run)
    return junit_xml(run, stored.verdicts)


# file name -> (link text, media type, what makes it)
DOWNLOADS: dict[str, tuple[str, str, Callable[[RunStore, RunInfo], str | bytes]]] = {
    "report.html": ("HTML report", "text/html; charset=utf-8", _report_html),
    "summary.json": ("JSON summary", "application/json", _summary_json),
    "stats.csv": ("CSV (stats)", "text/csv; charset=utf-8", _stats_csv),
    "junit.xml": ("JUnit XML", "application/xml", _junit_xml),
}


def run_download(request: Request) -> Response:
    """GET /runs/ID/FILE: one of DOWNLOADS, as the CLI writes it, saved as run-ID-FILE."""
    store: RunStore = request.app.state.store
    run = requested_run(request)
    name = str(request.path_params["file"])
    if name not in DOWNLOADS:
        known = ", ".join(DOWNLOADS)
        raise RunNotFoundError(f"run {run.run_id} has no download {name!r} (there are: {known})")
    _label, media_type, make = DOWNLOADS[name]
    return Response(
        make(store, run),
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="run-{run.run_id}-{name}"'},
    )
