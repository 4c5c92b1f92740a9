"""HTTP clients of the other services' internal endpoints, signed in as this service's client (client credentials).

The token comes from users_svc (`POST /api/users/token/service/`) and is reused until shortly before it expires.
The internal endpoints are reached on the services' own addresses (USERS_INTERNAL_URL, ...), never through nginx.
"""

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

TOKEN_PATH = "/api/users/token/service/"
PAYMENTS_LOOKUP_PATH = "/internal/payments/lookup/"
RESERVATIONS_LOOKUP_PATH = "/internal/inventory/reservations/lookup/"
STOCK_LOOKUP_PATH = "/internal/inventory/stock/lookup/"
# The internal endpoints take at most 500 keys a call.
BATCH_SIZE = 200
# A token is renewed this many seconds before it expires.
TOKEN_MARGIN_SECONDS = 30


class ServiceUnavailable(Exception):
    """Another service did not answer as expected: this run cannot compare anything."""


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Token:
    value: str
    renew_at: float


class InternalClient:
    """One session (connections reused) for every call of a reconciliation run."""

    def __init__(
        self,
        *,
        users_url: str,
        inventory_url: str,
        payments_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        request_id: str | None = None,
    ):
        self.users_url = users_url.rstrip("/")
        self.inventory_url = inventory_url.rstrip("/")
        self.payments_url = payments_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.session = requests.Session()
        if request_id:
            self.session.headers["X-Request-ID"] = request_id
        self._token: _Token | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, *, request_id: str | None = None) -> "InternalClient":
        names = ("USERS_INTERNAL_URL", "INVENTORY_INTERNAL_URL", "PAYMENTS_INTERNAL_URL")
        missing = [
            name for name in (*names, "SERVICE_CLIENT_ID", "SERVICE_CLIENT_SECRET") if not getattr(settings, name)
        ]
        if missing:
            raise ServiceUnavailable(f"Not configured: {', '.join(missing)}")
        return cls(
            users_url=settings.USERS_INTERNAL_URL,
            inventory_url=settings.INVENTORY_INTERNAL_URL,
            payments_url=settings.PAYMENTS_INTERNAL_URL,
            client_id=settings.SERVICE_CLIENT_ID,
            client_secret=settings.SERVICE_CLIENT_SECRET,
            request_id=request_id,
        )

    def close(self) -> None:
        self.session.close()

    # TOKEN
    def token(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or time.monotonic() >= self._token.renew_at:
                self._token = self._token_fetch()
            return self._token.value

    def _token_fetch(self) -> _Token:
        body = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        answer = self._send("POST", self.users_url + TOKEN_PATH, json=body)
        try:
            data = answer.json()
            expires_in = int(data["expires_in"])
            value = str(data["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable(f"users_svc gave no token: {answer.status_code}") from exc
        return _Token(value=value, renew_at=time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 1))

    # CALLS
    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code != 200:
            raise ServiceUnavailable(f"{method} {url}: HTTP {response.status_code} {response.text[:300]}")
        return response

    def _post_internal(self, url: str, body: dict) -> list[dict]:
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self.token(renew=renew)}"}
            try:
                response = self.session.post(url, json=body, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                raise ServiceUnavailable(f"POST {url}: {exc.__class__.__name__}: {exc}") from exc
            if response.status_code == 401 and not renew:
                continue  # expired early or the key rotated: one new token, one more try
            if response.status_code != 200:
                raise ServiceUnavailable(f"POST {url}: HTTP {response.status_code} {response.text[:300]}")
            try:
                return list(response.json()["results"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ServiceUnavailable(f"POST {url}: not a list of results") from exc
        raise ServiceUnavailable(f"POST {url}: the service token was refused")

    def payments_by_order(self, order_ids: Iterable[str]) -> dict[str, list[dict]]:
        """Every payment of each order (an order without one is absent)."""
        found: dict[str, list[dict]] = {}
        for batch in batched([str(order_id) for order_id in order_ids], BATCH_SIZE):
            for payment in self._post_internal(self.payments_url + PAYMENTS_LOOKUP_PATH, {"order_ids": batch}):
                found.setdefault(str(payment["order_id"]), []).append(payment)
        return found

    def reservations_by_order(self, order_ids: Iterable[str]) -> dict[str, dict]:
        """The reservation of each order (an order without one is absent)."""
        found: dict[str, dict] = {}
        for batch in batched([str(order_id) for order_id in order_ids], BATCH_SIZE):
            for reservation in self._post_internal(self.inventory_url + RESERVATIONS_LOOKUP_PATH, {"order_ids": batch}):
                found[str(reservation["order_id"])] = reservation
        return found

    def stock_ledger(self, skus: Iterable[str]) -> list[dict]:
        """On hand, reserved, held and committed units of each known SKU."""
        rows: list[dict] = []
        for batch in batched(sorted(set(skus)), BATCH_SIZE):
            rows.extend(self._post_internal(self.inventory_url + STOCK_LOOKUP_PATH, {"skus": batch}))
        return rows
