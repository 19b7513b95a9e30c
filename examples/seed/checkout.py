from locust import HttpUser, task, between, SequentialTaskSet
import random

class CheckoutFlow(SequentialTaskSet):
    def on_start(self):
        self.headers = {
            "Authorization": "Bearer test-checkout-token",
            "Content-Type": "application/json",
            "X-Tenant-Id": "tenant-qa-001",
            "X-Correlation-Id": f"corr-{random.randint(100000, 999999)}"
        }
        self.product_id = random.choice([1042, 2088, 3011])

    @task
    def get_product(self):
        self.client.get(
            f"/v1/products/{self.product_id}",
            headers=self.headers,
            name="GET /v1/products/:id"
        )

    @task
    def check_inventory(self):
        self.client.get(
            f"/v1/inventory/{self.product_id}?warehouse=us-east",
            headers=self.headers,
            name="GET /v1/inventory/:id"
        )

    @task
    def get_pricing(self):
        self.client.get(
            f"/v1/pricing/{self.product_id}?currency=USD&customer_tier=gold",
            headers=self.headers,
            name="GET /v1/pricing/:id"
        )

    @task
    def add_to_cart(self):
        payload = {
            "product_id": self.product_id,
            "quantity": 1
        }
        self.client.post(
            "/v1/cart/items",
            json=payload,
            headers=self.headers,
            name="POST /v1/cart/items"
        )

    @task
    def create_order(self):
        payload = {
            "cart_id": f"cart-{random.randint(10000, 99999)}",
            "payment_method": {
                "type": "card",
                "token": "tok_visa_4242"
            },
            "shipping_address": {
                "first_name": "Alex",
                "last_name": "Morgan",
                "line1": "100 Market St",
                "city": "San Francisco",
                "state": "CA",
                "postal_code": "94105",
                "country": "US"
            }
        }
        self.client.post(
            "/v1/orders",
            json=payload,
            headers=self.headers,
            name="POST /v1/orders"
        )

class CheckoutUser(HttpUser):
    wait_time = between(2, 5)
    tasks = [CheckoutFlow]
