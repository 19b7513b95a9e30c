"""`--stages` as a Locust LoadTestShape: Locust's runner polls it about once a second."""

from __future__ import annotations

from collections.abc import Sequence

from locust import LoadTestShape

from loadgate.stages import Stage, target_at


class StagesShape(LoadTestShape):
    """Users (and the spawn rate) from loadgate.stages; ends the run when the stages end."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.stages = tuple(stages)

    def tick(self) -> tuple[int, float] | None:
        target = target_at(self.stages, self.get_run_time())  # type: ignore[no-untyped-call]
        return None if target is None else (target.users, target.spawn_rate)
