"""Operator pages of payments: the list, its filter and search, and one payment."""

import pytest
from django.urls import reverse

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


def test_payment_list_page_finds_a_payment_by_order_id(admin_client):
    payment = PaymentFactory()
    PaymentFactory()

    response = admin_client.get(reverse("admin:payments_payment_changelist"), {"q": str(payment.order_id)})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_payment_list_page_filters_by_status(admin_client):
    PaymentFactory(declined=True)
    PaymentFactory()

    response = admin_client.get(reverse("admin:payments_payment_changelist"), {"status": "declined"})

    assert response.context["cl"].result_count == 1


def test_payment_page_shows_the_payment(admin_client):
    payment = PaymentFactory(declined=True)

    response = admin_client.get(reverse("admin:payments_payment_change", args=[payment.id]))

    assert response.status_code == 200
    assert "card_declined" in response.content.decode()
