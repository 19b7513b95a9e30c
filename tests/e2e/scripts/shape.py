"""A LoadTestShape in three stages, then the end: the run stops by itself."""

from locust import FastHttpUser, LoadTestShape, constant, task


class Steady(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def ping(self):
        self.client.get("/zero", name="ping")


class ThreeStages(LoadTestShape):
    stages = ((1.5, 2), (3.0, 4), (4.5, 1))  # (until this many seconds, users)

    def tick(self):
        run_time_s = self.get_run_time()
        for until_s, users in self.stages:
            if run_time_s < until_s:
                return users, 10
        return None
