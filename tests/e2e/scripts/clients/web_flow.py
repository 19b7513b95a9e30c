"""Cookies, redirects and uploads, in the shape of Locust's web-site examples, against the test's
echo server (tests/engine/fastclient/echo_server.py) given as -H."""

from locust import HttpUser, constant, task


class WebVisitor(HttpUser):
    wait_time = constant(0.02)

    def on_start(self):
        self.client.get("/set-cookie?session=s1&lang=en", name="login")

    @task(3)
    def page_with_session(self):
        with self.client.get("/echo/page", catch_response=True, name="page") as response:
            if "session=s1" not in response.json()["headers"].get("cookie", ""):
                response.failure("session cookie not sent")

    @task(2)
    def followed_redirect(self):
        with self.client.post(
            "/redirect/303?to=/echo/landing", data={"a": "1"}, catch_response=True, name="form"
        ) as response:
            if response.json()["method"] != "GET" or len(response.history) != 1:
                response.failure(f"303 not followed as GET: {response.json()['method']}")

    @task(1)
    def unfollowed_redirect(self):
        with self.client.get(
            "/redirect/302?to=/echo", allow_redirects=False, catch_response=True, name="no-follow"
        ) as response:
            if response.status_code == 302:
                response.success()

    @task(1)
    def upload(self):
        with self.client.post(
            "/upload",
            files={"file": ("data.csv", b"a,b\n1,2\n", "text/csv")},
            data={"kind": "csv"},
            catch_response=True,
        ) as response:
            if [part["name"] for part in response.json()] != ["kind", "file"]:
                response.failure(f"parts: {response.text}")

    @task(1)
    def server_error(self):
        self.client.get("/status/503", name="broken")

    @task(1)
    def too_slow(self):
        self.client.get("/slow/300", timeout=0.05, name="timeout")
