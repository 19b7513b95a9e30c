from locust import HttpUser, task, between
import random

class AuthenticatedGatewayUser(HttpUser):
    wait_time = between(1, 2)

    def on_start(self):
        login_payload = {
            "client_id": "web-frontend",
            "client_secret": "test-client-secret",
            "audience": "commerce-api",
            "grant_type": "password",
            "username": f"loadtest_user_{random.randint(1, 1000)}@example.com",
            "password": "P@ssw0rd123!"
        }

        with self.client.post(
            "/v1/auth/token",
            json=login_payload,
            headers={"Content-Type": "application/json"},
            catch_response=True,
            name="POST /v1/auth/token"
        ) as response:
            if response.status_code == 200:
                data = response.json()
                self.token = data.get("access_token")
                if not self.token:
                    response.failure("No access_token returned")
            else:
                response.failure(f"Login failed: {response.status_code}")

    def auth_headers(self):
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "X-Tenant-Id": "tenant-qa-001",
            "X-Trace-Source": "loadforge"
        }

    @task(4)
    def get_profile(self):
        self.client.get(
            "/v1/users/profile",
            headers=self.auth_headers(),
            name="GET /v1/users/profile"
        )

    @task(3)
    def get_orders(self):
        self.client.get(
            "/v1/orders?status=processing&limit=10",
            headers=self.auth_headers(),
            name="GET /v1/orders"
        )

    @task(2)
    def get_order_detail(self):
        order_id = random.randint(100000, 100500)
        self.client.get(
            f"/v1/orders/{order_id}",
            headers=self.auth_headers(),
            name="GET /v1/orders/:id"
        )

    @task(1)
    def create_cart_item(self):
        payload = {
            "product_id": random.choice([1042, 1043, 2088, 3011]),
            "quantity": random.randint(1, 3),
            "currency": "USD"
        }
        self.client.post(
            "/v1/cart/items",
            json=payload,
            headers=self.auth_headers(),
            name="POST /v1/cart/items"
        )
