"""A running run, live: its charts and endpoint table as Server-Sent Events, and its stop button.

Each event is read from the store every LIVE_INTERVAL_S, so the page shows
what the store holds, whoever writes the run: by a LiveRead per connection,
which reads only the seconds stored since it last read (its cost does not
grow with the run), rendered by the report's own templates. The last event
says the run has ended; it is read whole, as the run's page will show it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from loadgate.errors import InputError
from loadgate.model import RunInfo, RunStatus
from loadgate.report.stored_run import StoredRun, stored_report_context
from loadgate.run_reading import read_for_report
from loadgate.stats.timeline import Timeline
from loadgate.store import RunStore
from loadgate.web.launcher import Launcher
from loadgate.web.live_read import LiveRead
from loadgate.web.rendering import environment
from loadgate.web.run_page import requested_run

LIVE_INTERVAL_S = 1.0


def live_update(store: RunStore, run_id: int, live: LiveRead | None = None) -> dict[str, object]:
    """One event: the run's status, request count, chart figures and endpoint section.

    Read through `live` while the run is going, if given; else (and once the
    run has ended) the whole run is read.
    """
    run = store.get_run(run_id)
    if live is not None and run.status is RunStatus.RUNNING:
        return update_of(run, *live.read(run))
    return update_of(run, *read_for_report(store, run))


def update_of(run: RunInfo, stored: StoredRun, timeline: Timeline) -> dict[str, object]:
    """The event of a run read into `stored` and `timeline`."""
    context = stored_report_context(stored, timeline)
    section = environment().get_template("sections/endpoints.html.j2").render(context)
    return {
        "status": run.status.value,
        "requests": stored.summary.total.requests,
        "figures": {chart.chart_id: chart.figure for chart in context["charts"]},
        "endpoints_html": section,
    }


async def _events(store: RunStore, run_id: int) -> AsyncIterator[str]:
    live = LiveRead(store, run_id)
    while True:
        started_s = anyio.current_time()
        update = await anyio.to_thread.run_sync(live_update, store, run_id, live)
        ended = update["status"] != RunStatus.RUNNING.value
        yield f"event: {'ended' if ended else 'update'}\ndata: {json.dumps(update)}\n\n"
        if ended:
            return
        # One event every LIVE_INTERVAL_S, the read's time included (not added to the wait).
        await anyio.sleep(max(0.0, LIVE_INTERVAL_S - (anyio.current_time() - started_s)))


def run_events(request: Request) -> Response:
    """GET /runs/ID/events: text/event-stream, one event a second until the run ends."""
    store: RunStore = request.app.state.store
    run = requested_run(request)
    return StreamingResponse(
        _events(store, run.run_id),
        media_type="text/event-stream",
        headers={"x-accel-buffering": "no"},
    )


def stop_run(request: Request) -> Response:
    """POST /runs/ID/stop: SIGINT to the run's process, if this dashboard started it."""
    launcher: Launcher = request.app.state.launcher
    run = requested_run(request)
    if not launcher.stop(run.run_id):
        raise InputError(
            f"run {run.run_id} was not started by this dashboard (or has ended): "
            "stop it where it runs, with Ctrl-C"
        )
    return RedirectResponse(f"/runs/{run.run_id}", status_code=303)
