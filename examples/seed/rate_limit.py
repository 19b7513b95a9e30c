from locust import HttpUser, task, constant

class RateLimitBurstUser(HttpUser):
    wait_time = constant(0.1)

    headers = {
        "Accept": "application/json",
        "X-API-Key": "lf_test_key_8f3a92_gateway",
        "X-Client-Id": "mobile-app"
    }

    @task
    def burst_search_requests(self):
        with self.client.get(
            "/v1/search?q=sneakers&limit=5",
            headers=self.headers,
            catch_response=True,
            name="GET /v1/search (rate limit test)"
        ) as response:
            if response.status_code in [200, 429]:
                response.success()
            else:
                response.failure(f"Unexpected status code: {response.status_code}")
