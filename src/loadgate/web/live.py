"""A running run, live: its charts and endpoint table as Server-Sent Events, and its stop button.

Each connection is sent an event every LIVE_INTERVAL_S, read from the store,
so the page shows what the store holds, whoever writes the run. Events are
made by the run's LiveFeeds entry (web/live_feed.py): one incremental read
per run, shared by every connection watching it. The last event says the
run has ended; it is read whole, as the run's page will show it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from loadgate.errors import InputError
from loadgate.web.launcher import Launcher
from loadgate.web.live_feed import LiveFeeds
from loadgate.web.run_page import requested_run

LIVE_INTERVAL_S = 1.0


async def _events(feeds: LiveFeeds, run_id: int) -> AsyncIterator[str]:
    while True:
        event = await anyio.to_thread.run_sync(feeds.event, run_id)
        yield event.text()
        if event.ended:
            return
        # On the clock's whole intervals, the read's time included: every
        # connection to a run asks at the same moments, and all but one share
        # the event that one reads (LiveFeeds).
        await anyio.sleep(LIVE_INTERVAL_S - anyio.current_time() % LIVE_INTERVAL_S)


def run_events(request: Request) -> Response:
    """GET /runs/ID/events: text/event-stream, one event a second until the run ends."""
    feeds: LiveFeeds = request.app.state.live_feeds
    run = requested_run(request)
    return StreamingResponse(
        _events(feeds, run.run_id),
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
