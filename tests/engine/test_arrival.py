"""The open model's gate on a script's classes, and the share a master sends its workers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from locust import HttpUser, SequentialTaskSet, TaskSet, between, tag, task

from loadgate.arrival_rate import ArrivalPlan, parse_arrival_stages
from loadgate.engine.arrival import Arrivals, Share, gate_tasks
from loadgate.engine.arrival_tally import ArrivalTally


class Steps(SequentialTaskSet):
    wait_time = between(3, 4)

    @task
    def one(self) -> None:
        pass

    @task
    def two(self) -> None:
        pass


class Browse(TaskSet):
    @tag("deep")
    @task(3)
    def look(self) -> None:
        pass

    tasks = [Steps]  # noqa: RUF012  (Locust adds the @task methods to it)


class Shopper(HttpUser):
    wait_time = between(1, 2)
    tasks = [Browse]  # noqa: RUF012


def _arrivals(is_open: bool) -> Arrivals:
    # Only the environment's user classes are read before the scheduler starts.
    environment: Any = SimpleNamespace(user_classes=[Shopper])
    return Arrivals(environment, ArrivalTally(), is_open=lambda: is_open)


def test_every_innermost_task_is_gated_keeping_weights_tags_and_order() -> None:
    originals = [Steps.tasks[0], Steps.tasks[1]]
    gate_tasks([Shopper], _arrivals(is_open=True))
    gate_tasks([Shopper], _arrivals(is_open=True))  # twice: no second wrapper
    gated = Steps.tasks
    assert [t.__name__ for t in gated] == ["one", "two"]
    assert all(getattr(t, "__wrapped__", None) is o for t, o in zip(gated, originals, strict=True))
    assert Shopper.tasks == [Browse]  # a TaskSet entry is not an iteration: its tasks are
    look = next(t for t in Browse.tasks if getattr(t, "__name__", "") == "look")
    assert look.locust_tag_set == {"deep"}
    assert Browse.tasks.count(look) == 3
    assert Steps in Browse.tasks


def test_wait_time_is_zero_only_in_an_open_model_run() -> None:
    class Closed(HttpUser):
        wait_time = between(1, 2)

        @task
        def go(self) -> None:
            pass

    gate_tasks([Closed], _arrivals(is_open=False))
    assert 1 <= Closed.wait_time(object()) <= 2  # type: ignore[arg-type]

    class Opened(HttpUser):
        wait_time = between(1, 2)

        @task
        def go(self) -> None:
            pass

    gate_tasks([Opened], _arrivals(is_open=True))
    assert Opened.wait_time(object()) == 0.0  # type: ignore[arg-type]


def test_a_share_and_its_plan_cross_the_wire_unchanged() -> None:
    plan = ArrivalPlan(stages=parse_arrival_stages("10s:50/s,1m:200/s"), max_users=301)
    share = Share(plan=plan, start_s=1_800_000_000.25, index=1, count=3, from_s=12.5)
    assert Share.from_wire(share.to_wire()) == share
    assert share.max_users == 101  # the pool's maximum, split
    constant = ArrivalPlan(rate_per_s=0.5, max_users=10)
    assert ArrivalPlan.from_wire(constant.to_wire()) == constant
    assert (constant.duration_s, plan.duration_s) == (None, 70)
