"""The products API of API.md, through real HTTP requests, tokens and PostgreSQL."""

import uuid
from decimal import Decimal

import pytest

from inventory import services
from inventory.models import Product

from .factories import ProductFactory, ReservationLineFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/inventory/products/"
NEW_PRODUCT = {"sku": "NEW-1", "name": "New thing", "description": "Shiny.", "price": "19.99", "stock": 7}


def detail(sku: str) -> str:
    return f"{PRODUCTS}{sku}/"


def assert_error(response, status_code: int, error_type: str, attr: str | None = None):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["type"] == error_type
    if attr is not None:
        assert attr in [error["attr"] for error in body["errors"]]


# READ


def test_list_is_public_paginated_and_shows_only_public_fields(api_client):
    ProductFactory(sku="MUG", name="Mug", description="Holds tea.", price=Decimal("12.5"), on_hand=4, reserved=1)

    response = api_client.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["results"] == [
        {"sku": "MUG", "name": "Mug", "description": "Holds tea.", "price": "12.50", "currency": "USD", "available": 3}
    ]


def test_list_is_ordered_by_sku_by_default(api_client):
    for sku in ["C", "A", "B"]:
        ProductFactory(sku=sku)
    assert [p["sku"] for p in api_client.get(PRODUCTS).json()["results"]] == ["A", "B", "C"]


def test_search_matches_sku_name_and_description(api_client):
    ProductFactory(sku="MUG-1", name="Mug", description="")
    ProductFactory(sku="CUP-1", name="Teacup", description="")
    ProductFactory(sku="HAT-1", name="Hat", description="Not a mug at all")
    ProductFactory(sku="SOCK-1", name="Sock", description="")

    def found(term):
        return sorted(p["sku"] for p in api_client.get(PRODUCTS, {"search": term}).json()["results"])

    assert found("mug") == ["HAT-1", "MUG-1"]
    assert found("cup-1") == ["CUP-1"]


def test_in_stock_filter_keeps_products_with_units_available(api_client):
    ProductFactory(sku="FULL", on_hand=3, reserved=0)
    ProductFactory(sku="HELD", on_hand=3, reserved=3)
    ProductFactory(sku="EMPTY", on_hand=0)

    assert [p["sku"] for p in api_client.get(PRODUCTS, {"in_stock": "true"}).json()["results"]] == ["FULL"]
    assert [p["sku"] for p in api_client.get(PRODUCTS, {"in_stock": "false"}).json()["results"]] == ["EMPTY", "HELD"]


def test_in_stock_filter_with_a_bad_value_is_a_400_envelope(api_client):
    assert_error(api_client.get(PRODUCTS, {"in_stock": "perhaps"}), 400, "validation_error", "in_stock")


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [("price", ["B", "C", "A"]), ("-price", ["A", "C", "B"]), ("name", ["C", "A", "B"]), ("-sku", ["C", "B", "A"])],
)
def test_ordering_by_price_name_or_sku(api_client, ordering, expected):
    ProductFactory(sku="A", name="Beta", price=Decimal("30.00"))
    ProductFactory(sku="B", name="Gamma", price=Decimal("10.00"))
    ProductFactory(sku="C", name="Alpha", price=Decimal("20.00"))
    assert [p["sku"] for p in api_client.get(PRODUCTS, {"ordering": ordering}).json()["results"]] == expected


def test_ordering_by_an_unlisted_field_falls_back_to_sku(api_client):
    ProductFactory(sku="A", on_hand=1)
    ProductFactory(sku="B", on_hand=9)
    assert [p["sku"] for p in api_client.get(PRODUCTS, {"ordering": "-on_hand"}).json()["results"]] == ["A", "B"]


def test_equal_prices_are_paged_without_overlap(api_client):
    for index in range(5):
        ProductFactory(sku=f"P{index}", price=Decimal("1.00"))
    pages = [
        api_client.get(PRODUCTS, {"ordering": "price", "page_size": 2, "page": page}).json()["results"]
        for page in (1, 2, 3)
    ]
    assert [p["sku"] for page in pages for p in page] == ["P0", "P1", "P2", "P3", "P4"]


def test_page_size_is_capped_at_100(api_client):
    ProductFactory.create_batch(105)
    body = api_client.get(PRODUCTS, {"page_size": 1000}).json()
    assert body["count"] == 105
    assert len(body["results"]) == 100


def test_detail_is_public(api_client):
    ProductFactory(sku="MUG", on_hand=5, reserved=2, price=Decimal("3"))
    response = api_client.get(detail("MUG"))
    assert response.status_code == 200
    assert (response.json()["available"], response.json()["price"]) == (3, "3.00")


def test_unknown_product_is_a_404_envelope(api_client):
    assert_error(api_client.get(detail("NOPE")), 404, "client_error")


@pytest.mark.parametrize("sku", ["mug", "A%00B", "-A", "X" * 65])
def test_malformed_sku_in_the_path_is_a_404_envelope(staff_client, sku):
    ProductFactory(sku="MUG")
    assert_error(staff_client.get(detail(sku)), 404, "client_error")
    assert_error(staff_client.post(f"{detail(sku)}restock/", {"quantity": 1}, format="json"), 404, "client_error")
    assert_error(staff_client.delete(detail(sku)), 404, "client_error")


def test_search_with_a_nul_byte_is_a_400_envelope(api_client):
    assert_error(api_client.get(f"{PRODUCTS}?search=a%00b"), 400, "validation_error")


# CREATE


def test_anonymous_create_is_401(api_client):
    assert_error(api_client.post(PRODUCTS, NEW_PRODUCT, format="json"), 401, "client_error")
    assert not Product.objects.exists()


def test_user_create_is_403(user_client):
    assert_error(user_client.post(PRODUCTS, NEW_PRODUCT, format="json"), 403, "client_error")
    assert not Product.objects.exists()


def test_staff_creates_a_product_with_its_stock(staff_client):
    response = staff_client.post(PRODUCTS, NEW_PRODUCT, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {
        "sku": "NEW-1",
        "name": "New thing",
        "description": "Shiny.",
        "price": "19.99",
        "currency": "USD",
        "available": 7,
    }
    product = Product.objects.get(sku="NEW-1")
    assert (product.on_hand, product.reserved) == (7, 0)


def test_create_without_description_leaves_it_blank(staff_client):
    data = {key: value for key, value in NEW_PRODUCT.items() if key != "description"}
    assert staff_client.post(PRODUCTS, data, format="json").json()["description"] == ""


def test_create_with_a_taken_sku_is_a_400(staff_client):
    ProductFactory(sku="NEW-1")
    assert_error(staff_client.post(PRODUCTS, NEW_PRODUCT, format="json"), 400, "validation_error", "sku")


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"price": "0"}, "price"),
        ({"price": "-5.00"}, "price"),
        ({"price": "1.999"}, "price"),
        ({"price": "abc"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": "many"}, "stock"),
        ({"sku": "new-1"}, "sku"),
        ({"sku": "-NEW"}, "sku"),
        ({"sku": "X" * 65}, "sku"),
        ({"name": ""}, "name"),
        ({"sku": None}, "sku"),
    ],
)
def test_create_with_bad_input_is_a_400_envelope(staff_client, change, attr):
    response = staff_client.post(PRODUCTS, {**NEW_PRODUCT, **change}, format="json")
    assert_error(response, 400, "validation_error", attr)
    assert not Product.objects.exists()


def test_create_with_malformed_json_is_a_400_envelope(staff_client):
    response = staff_client.post(PRODUCTS, "{not json", content_type="application/json")
    assert_error(response, 400, "client_error")


# UPDATE


def test_staff_updates_name_description_and_price(staff_client):
    ProductFactory(sku="MUG", on_hand=5, reserved=1)
    response = staff_client.patch(detail("MUG"), {"name": "Big mug", "price": "14.00"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["price"], response.json()["available"]) == ("Big mug", "14.00", 4)


@pytest.mark.parametrize("field", ["sku", "on_hand", "stock", "reserved", "available", "currency"])
def test_update_refuses_sku_and_stock_fields(staff_client, field):
    ProductFactory(sku="MUG", on_hand=5)
    response = staff_client.patch(detail("MUG"), {field: 50, "name": "Big mug"}, format="json")
    assert_error(response, 400, "validation_error", field)
    product = Product.objects.get(sku="MUG")
    assert product.on_hand == 5
    assert product.name != "Big mug"


def test_update_with_zero_price_is_a_400(staff_client):
    ProductFactory(sku="MUG")
    assert_error(staff_client.patch(detail("MUG"), {"price": "0.00"}, format="json"), 400, "validation_error", "price")


def test_user_update_is_403(user_client):
    ProductFactory(sku="MUG")
    assert_error(user_client.patch(detail("MUG"), {"name": "Mine"}, format="json"), 403, "client_error")


def test_update_of_unknown_product_is_404(staff_client):
    assert_error(staff_client.patch(detail("NOPE"), {"name": "X"}, format="json"), 404, "client_error")


def test_put_is_not_allowed(staff_client):
    ProductFactory(sku="MUG")
    assert_error(staff_client.put(detail("MUG"), NEW_PRODUCT, format="json"), 405, "client_error")


# DELETE


def test_staff_deletes_a_product(staff_client):
    ProductFactory(sku="MUG")
    assert staff_client.delete(detail("MUG")).status_code == 204
    assert not Product.objects.exists()


def test_deleting_a_product_with_reservations_is_a_409_envelope(staff_client):
    line = ReservationLineFactory()
    response = staff_client.delete(detail(line.product_id))
    assert_error(response, 409, "client_error")
    assert response.json()["errors"][0]["code"] == "product_in_use"
    assert Product.objects.filter(sku=line.product_id).exists()


def test_anonymous_delete_is_401(api_client):
    ProductFactory(sku="MUG")
    assert_error(api_client.delete(detail("MUG")), 401, "client_error")


def test_delete_of_unknown_product_is_404(staff_client):
    assert_error(staff_client.delete(detail("NOPE")), 404, "client_error")


# RESTOCK


def test_staff_restocks_and_gets_the_product(staff_client):
    ProductFactory(sku="MUG", on_hand=2, reserved=1)
    response = staff_client.post(f"{detail('MUG')}restock/", {"quantity": 10}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["available"] == 11
    assert Product.objects.get(sku="MUG").on_hand == 12


@pytest.mark.parametrize("quantity", [0, -3, 1_000_001, "lots", None])
def test_restock_with_bad_quantity_is_a_400(staff_client, quantity):
    ProductFactory(sku="MUG", on_hand=2)
    response = staff_client.post(f"{detail('MUG')}restock/", {"quantity": quantity}, format="json")
    assert_error(response, 400, "validation_error", "quantity")
    assert Product.objects.get(sku="MUG").on_hand == 2


def test_restock_beyond_the_stock_ceiling_is_a_400(staff_client):
    ProductFactory(sku="MUG", on_hand=services.MAX_ON_HAND)
    response = staff_client.post(f"{detail('MUG')}restock/", {"quantity": 1}, format="json")
    assert_error(response, 400, "validation_error", "quantity")


def test_user_restock_is_403(user_client):
    ProductFactory(sku="MUG")
    assert_error(user_client.post(f"{detail('MUG')}restock/", {"quantity": 1}, format="json"), 403, "client_error")


def test_restock_of_unknown_product_is_404(staff_client):
    assert_error(staff_client.post(f"{detail('NOPE')}restock/", {"quantity": 1}, format="json"), 404, "client_error")


def test_available_reflects_reservations(api_client):
    ProductFactory(sku="MUG", on_hand=3)
    services.stock_reserve(order_id=uuid.uuid4(), lines=[("MUG", 2)])
    assert api_client.get(detail("MUG")).json()["available"] == 1
