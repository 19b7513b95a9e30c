"""Deterministic, realistically sized JSON documents for the mock upstream services.

Each document is a pure function of its arguments (seeded by them), so the
same product id gives the same product in every process and every run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CATEGORIES = ("electronics", "audio", "home", "kitchen", "outdoor", "fitness", "office", "toys")
BRANDS = ("Acme", "Northwind", "Globex", "Initech", "Umbrella", "Soylent", "Hooli", "Vandelay")
ADJECTIVES = ("Wireless", "Compact", "Pro", "Ultra", "Smart", "Classic", "Portable", "Eco")
NOUNS = ("Headphones", "Speaker", "Kettle", "Backpack", "Lamp", "Sneakers", "Monitor", "Blender")
COLORS = ("black", "white", "graphite", "navy", "sand", "forest green", "coral")
WAREHOUSES = ("us-east", "us-west", "eu-central", "ap-south")
ORDER_STATUSES = ("pending_payment", "processing", "shipped", "delivered", "cancelled")
TIER_DISCOUNTS = {"standard": 0.0, "silver": 0.05, "gold": 0.1, "platinum": 0.15}
CURRENCY_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.3, "CAD": 1.36}
FIRST_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie")
LAST_NAMES = ("Morgan", "Lee", "Garcia", "Smith", "Nguyen", "Patel", "Kim", "Brown")
CITIES = (("San Francisco", "CA", "94105"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108"))
LOREM = (
    "Designed for everyday use with durable materials and a two-year warranty. "
    "Tested by our quality team for reliability, comfort and long battery life. "
    "Ships in recyclable packaging; free returns within 30 days of delivery. "
)


def _rng(*parts: object) -> random.Random:
    # Seeding with a string hashes it with SHA-512: stable across processes and runs.
    return random.Random(":".join(str(part) for part in parts))


def _timestamp(rng: random.Random, within_days: int = 365) -> str:
    moment = EPOCH - timedelta(seconds=rng.randrange(within_days * 86_400))
    return moment.isoformat().replace("+00:00", "Z")


def _price(rng: random.Random) -> float:
    return round(rng.uniform(9, 900), 2)


def product_summary(product_id: int) -> dict[str, Any]:
    """The short form used in lists and search results."""
    rng = _rng("product", product_id)
    name = f"{rng.choice(BRANDS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    return {
        "id": product_id,
        "sku": f"SKU-{product_id:06d}-{rng.randrange(100, 999)}",
        "name": name,
        "category": rng.choice(CATEGORIES),
        "price": {"amount": _price(rng), "currency": "USD"},
        "rating": round(rng.uniform(2.5, 5.0), 1),
        "review_count": rng.randrange(0, 5000),
        "in_stock": rng.random() > 0.1,
        "thumbnail_url": f"https://cdn.example.com/products/{product_id}/thumb.jpg",
    }


def product(product_id: int) -> dict[str, Any]:
    """A full product page, about 2 KB of JSON."""
    rng = _rng("product-detail", product_id)
    summary = product_summary(product_id)
    return {
        **summary,
        "brand": summary["name"].split(" ")[0],
        "description": LOREM * 2,
        "attributes": {
            "color": rng.choice(COLORS),
            "weight_g": rng.randrange(80, 4000),
            "dimensions_cm": [rng.randrange(5, 60) for _ in range(3)],
            "warranty_months": rng.choice((12, 24, 36)),
        },
        "images": [
            {"url": f"https://cdn.example.com/products/{product_id}/{i}.jpg", "width": 1200}
            for i in range(1, 5)
        ],
        "variants": [
            {"sku": f"{summary['sku']}-{color[:3].upper()}", "color": color}
            for color in rng.sample(COLORS, 3)
        ],
        "tags": rng.sample(("new", "bestseller", "eco", "gift", "sale", "premium"), 3),
        "created_at": _timestamp(rng, 900),
        "updated_at": _timestamp(rng, 30),
    }


def product_list(category: str, limit: int, cursor: int = 0) -> dict[str, Any]:
    """A page of product summaries in a category."""
    rng = _rng("category", category)
    first = 1000 + rng.randrange(0, 8000)
    ids = [first + (cursor + i) * 7 for i in range(limit)]
    items = [{**product_summary(i), "category": category or "all"} for i in ids]
    return {
        "items": items,
        "page": {"limit": limit, "cursor": cursor, "next_cursor": cursor + limit},
        "total": 500 + rng.randrange(0, 1500),
        "category": category or "all",
    }


def search(query: str, sort: str, limit: int) -> dict[str, Any]:
    """Search results with scores and facets."""
    rng = _rng("search", query.lower())
    ids = sorted({rng.randrange(1000, 9999) for _ in range(limit)})
    results = [{**product_summary(i), "score": round(rng.uniform(0.3, 1.0), 4)} for i in ids]
    keys = {
        "price_asc": lambda r: r["price"]["amount"],
        "price_desc": lambda r: -r["price"]["amount"],
        "rating": lambda r: -r["rating"],
    }
    results.sort(key=keys.get(sort, lambda r: -r["score"]))
    return {
        "query": query,
        "sort": sort,
        "results": results,
        "total_hits": rng.randrange(limit, 5000),
        "facets": {
            "brand": [{"value": b, "count": rng.randrange(1, 400)} for b in rng.sample(BRANDS, 4)],
            "category": [{"value": c, "count": rng.randrange(1, 400)} for c in CATEGORIES[:4]],
        },
        "took_ms": rng.randrange(3, 40),
    }


def _address(rng: random.Random) -> dict[str, Any]:
    city, state, postal_code = rng.choice(CITIES)
    return {
        "line1": f"{rng.randrange(1, 999)} Market St",
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "country": "US",
    }


def _order_items(rng: random.Random) -> list[dict[str, Any]]:
    items = []
    for _ in range(rng.randrange(1, 5)):
        summary = product_summary(rng.randrange(1000, 9999))
        quantity = rng.randrange(1, 4)
        items.append(
            {
                "product_id": summary["id"],
                "name": summary["name"],
                "quantity": quantity,
                "unit_price": summary["price"]["amount"],
                "line_total": round(summary["price"]["amount"] * quantity, 2),
            }
        )
    return items


def order(order_id: int, customer: str) -> dict[str, Any]:
    """One order with items, totals, address and tracking."""
    rng = _rng("order", order_id)
    items = _order_items(rng)
    subtotal = round(sum(item["line_total"] for item in items), 2)
    tax = round(subtotal * 0.0875, 2)
    status = rng.choice(ORDER_STATUSES)
    return {
        "id": order_id,
        "customer": customer,
        "status": status,
        "items": items,
        "totals": {"subtotal": subtotal, "tax": tax, "shipping": 4.99,
                   "total": round(subtotal + tax + 4.99, 2), "currency": "USD"},
        "shipping_address": _address(rng),
        "billing_address": _address(rng),
        "payment": {"type": "card", "brand": rng.choice(("visa", "mastercard", "amex")),
                    "last4": f"{rng.randrange(10000):04d}", "status": "captured"},
        "tracking": {"carrier": "UPS", "number": f"1Z{rng.randrange(10**9, 10**10)}"}
        if status in ("shipped", "delivered") else None,
        "timeline": [{"status": s, "at": _timestamp(rng, 120)}
                     for s in ORDER_STATUSES[: ORDER_STATUSES.index(status) + 1]],
        "created_at": _timestamp(rng, 120),
    }  # fmt: skip


def order_list(customer: str, status: str, limit: int) -> dict[str, Any]:
    """A customer's recent orders (summaries)."""
    rng = _rng("orders", customer, status)
    orders = []
    for _ in range(limit):
        detail = order(rng.randrange(100000, 100500), customer)
        orders.append(
            {
                "id": detail["id"],
                "status": status or detail["status"],
                "item_count": len(detail["items"]),
                "total": detail["totals"]["total"],
                "currency": "USD",
                "created_at": detail["created_at"],
            }
        )
    return {"orders": orders, "limit": limit, "status": status or "any", "customer": customer}


def profile(subject: str, tenant: str) -> dict[str, Any]:
    """A user's profile, preferences and addresses."""
    rng = _rng("profile", subject)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {
        "id": f"usr_{rng.getrandbits(48):012x}",
        "email": subject if "@" in subject else f"{subject}@example.com",
        "name": {"first": first, "last": last, "display": f"{first} {last[0]}."},
        "tenant_id": tenant or None,
        "loyalty": {"tier": rng.choice(tuple(TIER_DISCOUNTS)), "points": rng.randrange(0, 90000)},
        "addresses": [{"id": f"addr_{i}", **_address(rng)} for i in range(2)],
        "preferences": {"currency": "USD", "language": "en-US", "newsletter": rng.random() > 0.5},
        "created_at": _timestamp(rng, 1500),
        "last_login_at": _timestamp(rng, 3),
    }


def inventory(product_id: int, warehouse: str) -> dict[str, Any]:
    """Stock of one product in one warehouse (or all)."""
    rng = _rng("inventory", product_id, warehouse)
    available = rng.randrange(0, 500)
    return {
        "product_id": product_id,
        "warehouse": warehouse or "all",
        "available": available,
        "reserved": rng.randrange(0, 50),
        "incoming": [{"quantity": rng.randrange(10, 200), "eta": _timestamp(rng, 20)}],
        "locations": [{"warehouse": w, "available": rng.randrange(0, 200)} for w in WAREHOUSES],
        "status": "in_stock" if available > 10 else ("low_stock" if available else "out_of_stock"),
    }


def pricing(product_id: int, currency: str, tier: str) -> dict[str, Any]:
    """A price quote for one product, currency and customer tier."""
    base = product_summary(product_id)["price"]["amount"]
    rate = CURRENCY_RATES.get(currency, 1.0)
    discount = TIER_DISCOUNTS.get(tier, 0.0)
    list_price = round(base * rate, 2)
    final = round(list_price * (1 - discount), 2)
    return {
        "product_id": product_id,
        "currency": currency if currency in CURRENCY_RATES else "USD",
        "customer_tier": tier if tier in TIER_DISCOUNTS else "standard",
        "list_price": list_price,
        "discounts": [{"type": "tier", "percent": discount * 100,
                       "amount": round(list_price - final, 2)}],
        "volume_breaks": [{"min_quantity": q, "unit_price": round(final * (1 - d), 2)}
                          for q, d in ((1, 0.0), (10, 0.03), (50, 0.07), (100, 0.12))],
        "final_price": final,
        "tax_estimate": round(final * 0.0875, 2),
        "valid_until": (EPOCH + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    }  # fmt: skip


def cart_with_item(cart_seed: str, product_id: int, quantity: int, currency: str) -> dict[str, Any]:
    """The cart after adding one item."""
    rng = _rng("cart", cart_seed)
    summary = product_summary(product_id)
    line_total = round(summary["price"]["amount"] * quantity, 2)
    return {
        "cart_id": f"cart-{rng.randrange(10000, 99999)}",
        "items": [{"product_id": product_id, "name": summary["name"], "quantity": quantity,
                   "unit_price": summary["price"]["amount"], "line_total": line_total}],
        "totals": {"subtotal": line_total, "currency": currency},
    }  # fmt: skip


def created_order(order_id: int, request: dict[str, Any], customer: str) -> dict[str, Any]:
    """The order created from a checkout request."""
    rng = _rng("new-order", order_id)
    items = _order_items(rng)
    subtotal = round(sum(item["line_total"] for item in items), 2)
    return {
        "id": order_id,
        "customer": customer,
        "cart_id": request.get("cart_id"),
        "status": "pending_payment",
        "items": items,
        "totals": {"subtotal": subtotal, "total": round(subtotal * 1.0875 + 4.99, 2),
                   "currency": "USD"},
        "payment": {"type": request.get("payment_method", {}).get("type"), "status": "authorized"},
        "shipping_address": request.get("shipping_address"),
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
