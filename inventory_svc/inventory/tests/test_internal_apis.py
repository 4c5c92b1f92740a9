"""/internal/inventory/: reservations by order and the stock ledger, for service clients with reconcile:read."""

import uuid

import pytest
from service_kit.testing import service_client_for

from inventory.models import Reservation

from .factories import ProductFactory, ReservationLineFactory

pytestmark = pytest.mark.django_db

RESERVATIONS = "/internal/inventory/reservations/lookup/"
STOCK = "/internal/inventory/stock/lookup/"


@pytest.fixture
def reconciler():
    return service_client_for("reconcile:read", client_id="orders-reconciler")


def test_reservations_of_the_given_orders_with_their_lines(reconciler):
    line = ReservationLineFactory(quantity=2)
    ReservationLineFactory()

    response = reconciler.post(RESERVATIONS, {"order_ids": [str(line.reservation.order_id)]}, format="json")

    assert response.status_code == 200, response.json()
    [reservation] = response.json()["results"]
    assert reservation["order_id"] == str(line.reservation.order_id)
    assert reservation["status"] == "held"
    assert reservation["lines"] == [{"sku": line.product_id, "quantity": 2, "unit_price": "10.00"}]


def test_stock_ledger_counts_held_and_committed_lines_per_sku(reconciler):
    product = ProductFactory(on_hand=10, reserved=3)
    other = ProductFactory(on_hand=5, reserved=0)
    ReservationLineFactory(product=product, quantity=2)
    ReservationLineFactory(product=product, quantity=1)
    ReservationLineFactory(product=product, quantity=4, reservation__status=Reservation.Status.COMMITTED)
    ReservationLineFactory(product=product, quantity=7, reservation__status=Reservation.Status.RELEASED)

    response = reconciler.post(STOCK, {"skus": [product.sku, other.sku, "NO-SUCH-SKU"]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["results"] == [
        {"sku": product.sku, "on_hand": 10, "reserved": 3, "held_quantity": 3, "committed_quantity": 4},
        {"sku": other.sku, "on_hand": 5, "reserved": 0, "held_quantity": 0, "committed_quantity": 0},
    ]


@pytest.mark.parametrize("path", [RESERVATIONS, STOCK])
@pytest.mark.parametrize("client_fixture", ["user_client", "staff_client"])
def test_person_tokens_are_403(request, path, client_fixture):
    client = request.getfixturevalue(client_fixture)
    body = {"order_ids": [str(uuid.uuid4())]} if path == RESERVATIONS else {"skus": ["DEMO-MUG"]}

    response = client.post(path, body, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_no_token_is_401(api_client):
    assert api_client.post(STOCK, {"skus": ["DEMO-MUG"]}, format="json").status_code == 401


def test_malformed_skus_are_400(reconciler):
    assert reconciler.post(STOCK, {"skus": ["lower-case"]}, format="json").status_code == 400


def test_service_token_cannot_change_the_catalogue():
    client = service_client_for("reconcile:read")

    response = client.post(
        "/api/inventory/products/", {"sku": "SVC-1", "name": "x", "price": "1.00", "stock": 1}, format="json"
    )

    assert response.status_code == 401
