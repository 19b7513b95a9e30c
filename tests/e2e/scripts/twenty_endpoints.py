"""Twenty busy endpoints: each iteration calls all of them, without waiting."""

from locust import FastHttpUser, constant, task


class Twenty(FastHttpUser):
    wait_time = constant(0)

    @task
    def all_twenty(self):
        for number in range(20):
            self.client.get("/mix", name=f"/endpoint/{number:02d}")
