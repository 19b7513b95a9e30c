"""A stepped ramp for the saturation finding: 1 to 5 users, 4 s each, no think time."""

from locust import FastHttpUser, LoadTestShape, constant, task

STEP_S = 4
USERS = (1, 2, 3, 4, 5)


class Browser(FastHttpUser):
    wait_time = constant(0)

    @task
    def products(self):
        self.client.get("/v1/products", name="products")


class Steps(LoadTestShape):
    def tick(self):
        step = int(self.get_run_time() // STEP_S)
        if step >= len(USERS):
            return None
        return USERS[step], 50
