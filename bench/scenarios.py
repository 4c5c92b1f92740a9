"""Who orders what: buyers, the products they buy, and the two order mixes.

- `mix`: many SKUs with plenty of stock, 1-3 lines an order, one order in ten paid with a card the
  simulated gateway declines (so that path, and the stock it releases, is exercised too).
- `hot`: every order the same SKU, like a flash sale: every reservation contends for one row.

Buyers are registered and signed in before any load, slowly: nginx limits the auth endpoints to
5 requests/s per address, and a 429 here would only measure the limit.
"""

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from .loadgen import Request

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
HOT_SKU = "BENCH-HOT"
# Access tokens of the stack under test may live 5 minutes: refresh well before.
TOKEN_MAX_AGE_S = 150


def auth_post(url: str, payload: dict, *, attempts: int = 120) -> requests.Response:
    """POST to a rate-limited auth endpoint, waiting out 429s (bounded)."""
    response = None
    for _ in range(attempts):
        response = requests.post(url, json=payload, timeout=30)
        if response.status_code != 429:
            return response
        time.sleep(0.3)
    return response


@dataclass
class Buyer:
    email: str
    access: str
    refresh: str
    issued: float = field(default_factory=time.monotonic)


def sign_in(gateway: str, email: str, password: str) -> Buyer:
    response = auth_post(f"{gateway}/api/users/token/", {"email": email, "password": password})
    response.raise_for_status()
    body = response.json()
    return Buyer(email, body["access"], body.get("refresh", ""))


def register_buyers(gateway: str, count: int) -> list[Buyer]:
    buyers = []
    for _ in range(count):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        password = "Bench pass " + uuid.uuid4().hex
        auth_post(f"{gateway}/api/users/register/", {"email": email, "password": password}).raise_for_status()
        buyers.append(sign_in(gateway, email, password))
    return buyers


def refresh_tokens(gateway: str, buyers: list[Buyer]) -> None:
    """New access tokens through token/refresh/ (not rate-limited) for those about to expire."""
    for buyer in buyers:
        if time.monotonic() - buyer.issued < TOKEN_MAX_AGE_S:
            continue
        response = requests.post(f"{gateway}/api/users/token/refresh/", json={"refresh": buyer.refresh}, timeout=30)
        response.raise_for_status()
        body = response.json()
        buyer.access = body["access"]
        buyer.refresh = body.get("refresh", buyer.refresh)
        buyer.issued = time.monotonic()


def ensure_products(gateway: str, staff_token: str, skus: list[str], stock: int) -> None:
    """Create the SKUs the orders buy, or restock them if an earlier run sold too much of them."""
    headers = {"Authorization": f"Bearer {staff_token}"}

    def one(sku: str) -> None:
        url = f"{gateway}/api/inventory/products/"
        response = requests.get(f"{url}{sku}/", timeout=30)
        if response.status_code == 404:
            payload = {"sku": sku, "name": f"Bench item {sku}", "price": "3.50", "stock": stock}
            requests.post(url, json=payload, headers=headers, timeout=30).raise_for_status()
            return
        response.raise_for_status()
        missing = stock - response.json()["available"]
        while missing > 0:
            quantity = min(missing, 1_000_000)
            requests.post(
                f"{url}{sku}/restock/", json={"quantity": quantity}, headers=headers, timeout=30
            ).raise_for_status()
            missing -= quantity

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, skus))


def mix_skus(count: int) -> list[str]:
    return [f"BENCH-{i:04d}" for i in range(count)]


class OrderMaker:
    """Builds order i of a step, the same way every run (seeded), tagged so its work can be found."""

    def __init__(self, *, gateway: str, buyers: list[Buyer], skus: list[str], prefix: str, hot: bool, seed: int,
                 declined_share: float):  # fmt: skip
        self.url = f"{gateway}/api/orders/"
        self.buyers = buyers
        self.skus = skus
        self.prefix = prefix
        self.hot = hot
        self.rng = random.Random(seed)  # noqa: S311 - a repeatable mix, not a secret
        # Exactly one order in round(1 / share) is declined, spread evenly.
        self.declined_every = round(1 / declined_share) if declined_share else 0
        self.expected: dict[str, str] = {}

    def __call__(self, index: int) -> Request:
        tag = f"{self.prefix}-{index}"
        declined = bool(self.declined_every) and index % self.declined_every == self.declined_every - 1
        if self.hot:
            lines = [{"sku": HOT_SKU, "quantity": 1}]
        else:
            chosen = self.rng.sample(self.skus, k=min(len(self.skus), self.rng.randint(1, 3)))
            lines = [{"sku": sku, "quantity": self.rng.randint(1, 2)} for sku in chosen]
        self.expected[tag] = "cancelled" if declined else "confirmed"
        buyer = self.buyers[index % len(self.buyers)]
        headers = {
            "Authorization": f"Bearer {buyer.access}",
            "Idempotency-Key": tag,
            "X-Request-ID": tag,
        }
        body = {"lines": lines, "payment_method": DECLINED if declined else VISA}
        return Request("POST", self.url, headers=headers, json=body, tag=tag)
