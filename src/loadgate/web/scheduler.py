"""The dashboard's scheduler: every TICK_S, each scheduled test that is due is started.

`tick()` does one round and takes its time from the injected clock, so
tests run it at any moment they like; the dashboard calls it from a
background task. A test's first due time is the first after it was saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from loadgate.errors import LoadgateError
from loadgate.model import SavedTest
from loadgate.store import RunStore
from loadgate.web.allow_list import check_target
from loadgate.web.launcher import Launcher
from loadgate.web.schedule import decide

TICK_S = 15.0
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    """Starts due tests through `launcher`; `clock` gives the time (UTC, aware)."""

    def __init__(
        self,
        store: RunStore,
        launcher: Launcher,
        allowed_hosts: tuple[str, ...],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._launcher = launcher
        self._allowed_hosts = allowed_hosts
        self._clock = clock

    def tick(self) -> list[int]:
        """One round: start what is due, note what was missed; the ids of the runs started."""
        now = self._clock()
        started: list[int] = []
        for test in self._store.saved_tests():
            if test.cron and test.test_id is not None:
                run_id = self._handle(test, now)
                if run_id is not None:
                    started.append(run_id)
        return started

    def _handle(self, test: SavedTest, now: datetime) -> int | None:
        assert test.test_id is not None
        since = test.schedule_handled_at or test.created_at or now
        decision = decide(test.cron, since, now)
        if decision.handled_until is None:
            return None
        note = decision.note or test.schedule_note
        # Handled before it runs: a crash while starting never runs it twice.
        self._store.set_schedule_state(test.test_id, decision.handled_until, note)
        if decision.run_due_at is None:
            return None
        try:
            check_target(test.host, self._allowed_hosts)
            return self._launcher.start(test).run_id
        except LoadgateError as exc:
            line = f"the run due at {decision.run_due_at:%Y-%m-%d %H:%M} UTC did not start: {exc}"
            self._store.set_schedule_state(test.test_id, decision.handled_until, line)
            log.warning("test %r: %s", test.name, line)
            return None
