"""A script whose `quitting` listener keeps the main thread busy (in Python, never yielding)."""

from locust import FastHttpUser, constant, events, task


class Pinger(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def ping(self):
        self.client.get("/zero", name="ping")


@events.quitting.add_listener
def spin(environment, **kwargs):
    while True:  # like rendering a very long report: the hub never runs again
        pass
