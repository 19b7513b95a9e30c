from locust import HttpUser, task, between

class APIGatewayBrowseUser(HttpUser):
    wait_time = between(1, 3)

    common_headers = {
        "Accept": "application/json",
        "User-Agent": "LoadForge-APIGateway-Test/1.0",
        "X-Client-Version": "web-2026.04.1",
        "X-Region": "us-east-1"
    }

    @task(5)
    def list_products(self):
        self.client.get(
            "/v1/products?category=electronics&limit=20",
            headers=self.common_headers,
            name="GET /v1/products"
        )

    @task(3)
    def product_details(self):
        product_id = 1042
        self.client.get(
            f"/v1/products/{product_id}",
            headers=self.common_headers,
            name="GET /v1/products/:id"
        )

    @task(2)
    def search_products(self):
        self.client.get(
            "/v1/search?q=wireless+headphones&sort=relevance",
            headers=self.common_headers,
            name="GET /v1/search"
        )
