"""Inventory through the gateway: the seeded catalogue, staff-only writes with users_svc tokens."""

import time
import uuid
from decimal import Decimal

import pytest

from .helpers import assert_envelope, wait_until

PRODUCTS = "/api/inventory/products/"
DEMO_SKUS = {"DEMO-MUG", "DEMO-TSHIRT", "DEMO-POSTER"}
PRODUCT_FIELDS = {"sku", "name", "description", "price", "currency", "available"}


def new_sku() -> str:
    return f"E2E-{uuid.uuid4().hex.upper()}"


@pytest.fixture
def product(staff_api):
    """A product created by staff for one test, deleted afterwards."""
    sku = new_sku()
    payload = {"sku": sku, "name": "E2E mug", "description": "Made by a test.", "price": "19.99", "stock": 7}
    response = staff_api.post(PRODUCTS, json=payload)
    assert response.status_code == 201, response.text
    yield response.json()
    staff_api.delete(f"{PRODUCTS}{sku}/")


def test_anonymous_lists_the_seeded_catalogue(api):
    response = api.get(PRODUCTS, params={"page_size": 100, "search": "DEMO-"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert {item["sku"] for item in body["results"]} >= DEMO_SKUS


@pytest.mark.parametrize("sku", sorted(DEMO_SKUS))
def test_seeded_product_is_in_stock_with_a_price_in_dollars(api, sku):
    response = api.get(f"{PRODUCTS}{sku}/")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    assert body["currency"] == "USD"
    assert Decimal(body["price"]).as_tuple().exponent == -2
    assert body["available"] > 0


def test_in_stock_filter_and_price_ordering(api):
    response = api.get(PRODUCTS, params={"in_stock": "true", "ordering": "price", "page_size": 100})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(item["available"] > 0 for item in results)
    prices = [Decimal(item["price"]) for item in results]
    assert prices == sorted(prices)


def test_unknown_sku_is_404_envelope(api):
    assert_envelope(api.get(f"{PRODUCTS}{new_sku()}/"), 404, "client_error")


def test_anonymous_create_is_401(api):
    response = api.post(PRODUCTS, json={"sku": new_sku(), "name": "No", "price": "1.00", "stock": 1})

    assert_envelope(response, 401, "client_error")


def test_user_create_is_403(user_api):
    response = user_api.post(PRODUCTS, json={"sku": new_sku(), "name": "No", "price": "1.00", "stock": 1})

    assert_envelope(response, 403, "client_error")


def test_staff_creates_a_product_with_a_users_svc_token(api, product):
    response = api.get(f"{PRODUCTS}{product['sku']}/")

    assert response.status_code == 200
    assert response.json() == {
        "sku": product["sku"],
        "name": "E2E mug",
        "description": "Made by a test.",
        "price": "19.99",
        "currency": "USD",
        "available": 7,
    }


def test_staff_create_with_a_bad_price_is_400(staff_api):
    response = staff_api.post(PRODUCTS, json={"sku": new_sku(), "name": "Bad", "price": "cheap", "stock": 1})

    body = assert_envelope(response, 400, "validation_error")
    assert body["errors"][0]["attr"] == "price"


def test_staff_create_of_a_taken_sku_is_400(staff_api, product):
    response = staff_api.post(PRODUCTS, json={"sku": product["sku"], "name": "Again", "price": "1.00", "stock": 1})

    assert_envelope(response, 400, "validation_error")


def test_staff_patches_a_product(staff_api, product):
    response = staff_api.patch(f"{PRODUCTS}{product['sku']}/", json={"price": "12.5", "name": "Renamed"})

    assert response.status_code == 200, response.text
    assert response.json()["price"] == "12.50"
    assert response.json()["name"] == "Renamed"


def test_user_patch_is_403(user_api, product):
    response = user_api.patch(f"{PRODUCTS}{product['sku']}/", json={"price": "0.01"})

    assert_envelope(response, 403, "client_error")


def test_staff_restock_adds_to_what_is_available(staff_api, product):
    before = staff_api.get(f"{PRODUCTS}{product['sku']}/").json()["available"]

    response = staff_api.post(f"{PRODUCTS}{product['sku']}/restock/", json={"quantity": 5})

    assert response.status_code == 200, response.text
    assert response.json()["available"] == before + 5


@pytest.mark.parametrize("quantity", [0, -3, "many"])
def test_restock_needs_a_positive_quantity(staff_api, product, quantity):
    response = staff_api.post(f"{PRODUCTS}{product['sku']}/restock/", json={"quantity": quantity})

    body = assert_envelope(response, 400, "validation_error")
    assert body["errors"][0]["attr"] == "quantity"


def test_staff_deletes_a_product(staff_api, api, product):
    response = staff_api.delete(f"{PRODUCTS}{product['sku']}/")

    assert response.status_code == 204
    assert_envelope(api.get(f"{PRODUCTS}{product['sku']}/"), 404, "client_error")


def test_anonymous_catalogue_reads_are_cached_by_the_gateway_for_two_seconds_at_most(api, staff_api, product):
    sku = product["sku"]
    page = {"search": sku}

    def anonymous_price() -> tuple[str, str]:
        response = api.get(PRODUCTS, params=page)
        assert response.status_code == 200, response.text
        assert response.headers["X-Request-ID"]
        return response.json()["results"][0]["price"], response.headers["X-Cache"]

    first_price, _ = anonymous_price()
    again_price, cache = anonymous_price()
    assert (first_price, again_price) == ("19.99", "19.99")
    assert cache in {"HIT", "UPDATING"}, cache

    changed = staff_api.patch(f"{PRODUCTS}{sku}/", json={"price": "21.50"})
    assert changed.status_code == 200, changed.text
    changed_at = time.monotonic()
    wait_until(lambda: anonymous_price()[0] == "21.50", timeout=5, interval=0.05, message="the new price shown")
    # One second of cache, which nginx counts in whole seconds: two at most, and a little for the request.
    assert time.monotonic() - changed_at < 2.5

    # A read with a token is the service's own answer, never the cache's.
    signed_in = staff_api.get(PRODUCTS, params=page)
    assert signed_in.headers["X-Cache"] == "BYPASS"
