"""Operator pages render, and reservations cannot be edited by hand."""

import pytest

from .factories import ProductFactory, ReservationLineFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/inventory/inventory/"


def test_product_pages_render(admin_client):
    product = ProductFactory(sku="MUG", on_hand=5, reserved=2)
    assert admin_client.get(f"{ADMIN}product/", {"q": "mug"}).status_code == 200
    assert admin_client.get(f"{ADMIN}product/{product.pk}/change/").status_code == 200
    assert admin_client.get(f"{ADMIN}product/add/").status_code == 200


def test_reservation_pages_are_read_only(admin_client):
    line = ReservationLineFactory()
    reservation = line.reservation
    assert admin_client.get(f"{ADMIN}reservation/", {"q": "not-a-uuid"}).status_code == 200
    assert admin_client.get(f"{ADMIN}reservation/", {"q": str(reservation.order_id)}).status_code == 200
    page = admin_client.get(f"{ADMIN}reservation/{reservation.pk}/change/")
    assert page.status_code == 200
    assert line.product_id in page.content.decode()
    assert admin_client.get(f"{ADMIN}reservation/add/").status_code == 403
