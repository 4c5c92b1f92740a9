"""The orders API as API.md describes it: placing and cancelling, scoped reads, the error envelope."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from service_kit.models import OutboxMessage
from service_kit.testing import CustomerResourceApiTests, Identity, assert_envelope, client_for

from orders.models import CancelReason, Order, OrderStatus

from .factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/orders/"


def detail_url(order_id) -> str:
    return f"/api/orders/{order_id}/"


# What every customer collection promises (service_kit.testing), then what is the order's own.
class TestOrderReads(CustomerResourceApiTests):
    factory = OrderFactory
    list_url = LIST_URL
    filtered_status = "confirmed"


def test_order_has_the_documented_shape_with_money_as_strings(user_client):
    order = OrderFactory(user_id=user_client.identity.id, reserved=True, total=Decimal("27.00"))
    OrderLineFactory(order=order, sku="DEMO-MUG", quantity=2, unit_price=Decimal("9.50"))
    OrderLineFactory(order=order, sku="DEMO-POSTER", quantity=1, unit_price=Decimal("8.00"))

    response = user_client.get(detail_url(order.id))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "status", "lines", "total", "currency", "cancel_reason", "created_at"}
    assert body["id"] == str(order.id)
    assert body["status"] == "reserved"
    assert body["total"] == "27.00"
    assert body["currency"] == "USD"
    assert body["cancel_reason"] is None
    assert body["lines"] == [
        {"sku": "DEMO-MUG", "quantity": 2, "unit_price": "9.50"},
        {"sku": "DEMO-POSTER", "quantity": 1, "unit_price": "8.00"},
    ]


def test_pending_order_has_null_total_and_prices(user_client):
    order = OrderFactory(user_id=user_client.identity.id)
    OrderLineFactory(order=order, sku="DEMO-MUG")

    body = user_client.get(detail_url(order.id)).json()

    assert body["status"] == "pending"
    assert body["total"] is None
    assert body["lines"] == [{"sku": "DEMO-MUG", "quantity": 1, "unit_price": None}]


def test_cancelled_order_shows_its_reason(user_client):
    order = OrderFactory(user_id=user_client.identity.id, cancelled=True)

    assert user_client.get(detail_url(order.id)).json()["cancel_reason"] == "out_of_stock"


def test_page_size_and_page_walk_the_list(user_client):
    OrderFactory.create_batch(3, user_id=user_client.identity.id)

    body = user_client.get(LIST_URL, {"page_size": 2, "page": 2}).json()

    assert len(body["results"]) == 1
    assert body["previous"] is not None


def test_page_past_the_end_is_not_found(user_client):
    assert_envelope(user_client.get(LIST_URL, {"page": 5}), status=404, error_type="client_error", code="not_found")


def test_list_cannot_be_deleted(user_client):
    assert_envelope(user_client.delete(LIST_URL), status=405, error_type="client_error", code="method_not_allowed")


# Placing an order

LINES = [{"sku": "DEMO-MUG", "quantity": 2}, {"sku": "DEMO-POSTER", "quantity": 1}]
BODY = {"lines": LINES, "payment_method": "pm_card_visa"}


def cancel_url(order_id) -> str:
    return f"/api/orders/{order_id}/cancel/"


def place(client, body=BODY, **headers):
    return client.post(LIST_URL, body, format="json", **headers)


def test_placing_an_order_stores_it_pending_and_asks_inventory_to_reserve(user_client, outbox):
    response = place(user_client, HTTP_X_REQUEST_ID="req-place-1")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert set(body) == {"id", "status", "lines", "total", "currency", "cancel_reason", "created_at"}
    assert body["status"] == "pending"
    assert body["total"] is None
    assert body["currency"] == "USD"
    assert body["cancel_reason"] is None
    assert body["lines"] == [
        {"sku": "DEMO-MUG", "quantity": 2, "unit_price": None},
        {"sku": "DEMO-POSTER", "quantity": 1, "unit_price": None},
    ]
    order = Order.objects.get()
    assert str(order.id) == body["id"]
    assert str(order.user_id) == user_client.identity.id
    assert order.payment_method == "pm_card_visa"
    assert order.correlation_id == "req-place-1"
    assert outbox() == [("inventory.reserve", {"order_id": body["id"], "lines": LINES})]
    envelope = OutboxMessage.objects.get().envelope
    assert envelope["correlation_id"] == "req-place-1"
    assert envelope["producer"] == "orders"


def test_placing_an_order_at_the_limits_of_50_lines_and_1000_each_is_accepted(user_client):
    lines = [{"sku": f"SKU-{n}", "quantity": 1000} for n in range(50)]

    response = place(user_client, {"lines": lines, "payment_method": "pm_card_chargeDeclined"})

    assert response.status_code == 201
    assert Order.objects.get().lines.count() == 50


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"lines": [], "payment_method": "pm_card_visa"}, "lines"),
        ({"lines": [{"sku": f"SKU-{n}", "quantity": 1} for n in range(51)], "payment_method": "pm_card_visa"}, "lines"),
        ({"lines": [{"sku": "DEMO-MUG", "quantity": 0}], "payment_method": "pm_card_visa"}, "lines.0.quantity"),
        ({"lines": [{"sku": "DEMO-MUG", "quantity": 1001}], "payment_method": "pm_card_visa"}, "lines.0.quantity"),
        ({"lines": [{"sku": "DEMO-MUG", "quantity": "two"}], "payment_method": "pm_card_visa"}, "lines.0.quantity"),
        ({"lines": [{"sku": "DEMO-MUG", "quantity": 1.5}], "payment_method": "pm_card_visa"}, "lines.0.quantity"),
        ({"lines": [{"sku": "", "quantity": 1}], "payment_method": "pm_card_visa"}, "lines.0.sku"),
        ({"lines": [{"sku": "X" * 65, "quantity": 1}], "payment_method": "pm_card_visa"}, "lines.0.sku"),
        ({"lines": [{"sku": ["DEMO-MUG"], "quantity": 1}], "payment_method": "pm_card_visa"}, "lines.0.sku"),
        ({"lines": [{"quantity": 1}], "payment_method": "pm_card_visa"}, "lines.0.sku"),
        ({"lines": [{"sku": "DEMO-MUG"}], "payment_method": "pm_card_visa"}, "lines.0.quantity"),
        ({"lines": "DEMO-MUG", "payment_method": "pm_card_visa"}, "lines"),
        (
            {
                "lines": [{"sku": "DEMO-MUG", "quantity": 1}, {"sku": "DEMO-MUG", "quantity": 2}],
                "payment_method": "pm_card_visa",
            },
            "lines",
        ),
        ({"lines": LINES, "payment_method": "pm_card_mastercard"}, "payment_method"),
        ({"lines": LINES, "payment_method": 42}, "payment_method"),
        ({"lines": LINES}, "payment_method"),
        ({"payment_method": "pm_card_visa"}, "lines"),
        ([LINES], "non_field_errors"),
    ],
    ids=[
        "no lines",
        "51 lines",
        "zero quantity",
        "quantity 1001",
        "quantity not a number",
        "fractional quantity",
        "empty sku",
        "sku too long",
        "sku not a string",
        "missing sku",
        "missing quantity",
        "lines not a list",
        "repeated sku",
        "unknown payment method",
        "payment method not a string",
        "missing payment method",
        "missing lines",
        "body not an object",
    ],
)
def test_invalid_order_is_refused_in_the_envelope_and_nothing_is_stored(user_client, body, attr):
    response = place(user_client, body)

    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "validation_error"
    assert attr in [error["attr"] for error in payload["errors"]]
    assert Order.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_body_that_is_not_json_is_a_parse_error(user_client):
    response = user_client.post(LIST_URL, "{not json", content_type="application/json")

    assert_envelope(response, status=400, error_type="client_error", code="parse_error")
    assert Order.objects.count() == 0


def test_anonymous_caller_cannot_place_an_order(api_client):
    assert_envelope(place(api_client), status=401, error_type="client_error", code="not_authenticated")
    assert Order.objects.count() == 0


def test_same_idempotency_key_and_body_returns_the_first_order_without_placing_another(user_client, outbox):
    first = place(user_client, HTTP_IDEMPOTENCY_KEY="key-1")

    again = place(user_client, {**BODY, "lines": list(reversed(LINES))}, HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1
    assert [message_type for message_type, _ in outbox()] == ["inventory.reserve"]


def test_same_idempotency_key_with_another_body_is_refused_with_422(user_client, outbox):
    place(user_client, HTTP_IDEMPOTENCY_KEY="key-1")

    response = place(user_client, {**BODY, "payment_method": "pm_card_chargeDeclined"}, HTTP_IDEMPOTENCY_KEY="key-1")

    assert_envelope(response, status=422, error_type="client_error", code="idempotency_key_reused")
    assert Order.objects.count() == 1
    assert len(outbox()) == 1


def test_another_user_reusing_an_idempotency_key_gets_their_own_order(user_client, outbox):
    first = place(user_client, HTTP_IDEMPOTENCY_KEY="key-1")

    other = place(client_for(Identity()), HTTP_IDEMPOTENCY_KEY="key-1")

    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert other.json()["id"] != first.json()["id"]
    assert Order.objects.count() == 2
    assert len(outbox()) == 2


def test_idempotency_key_older_than_24_hours_no_longer_counts(user_client, outbox):
    first = place(user_client, HTTP_IDEMPOTENCY_KEY="key-1")
    Order.objects.filter(id=first.json()["id"]).update(created_at=timezone.now() - timedelta(hours=25))

    again = place(user_client, {**BODY, "payment_method": "pm_card_chargeDeclined"}, HTTP_IDEMPOTENCY_KEY="key-1")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert Order.objects.get(id=first.json()["id"]).idempotency_key is None
    assert Order.objects.get(id=again.json()["id"]).idempotency_key == "key-1"
    assert len(outbox()) == 2


def test_idempotency_key_younger_than_24_hours_still_counts(user_client):
    first = place(user_client, HTTP_IDEMPOTENCY_KEY="key-1")
    Order.objects.filter(id=first.json()["id"]).update(created_at=timezone.now() - timedelta(hours=23))

    again = place(user_client, HTTP_IDEMPOTENCY_KEY="key-1")

    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_blank_or_overlong_idempotency_key_is_refused(user_client, key):
    response = place(user_client, HTTP_IDEMPOTENCY_KEY=key)

    assert_envelope(response, status=400, error_type="validation_error", code="invalid")
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert Order.objects.count() == 0


def test_idempotency_key_of_255_characters_is_accepted(user_client):
    assert place(user_client, HTTP_IDEMPOTENCY_KEY="k" * 255).status_code == 201


def test_placing_orders_beyond_the_rate_limit_is_refused_with_429(user_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"orders": "2/min"}}

    statuses = [place(user_client).status_code for _ in range(2)]
    refused = place(user_client)

    assert statuses == [201, 201]
    assert_envelope(refused, status=429, error_type="client_error", code="throttled")
    assert Order.objects.count() == 2
    assert place(client_for(Identity())).status_code == 201
    assert user_client.get(LIST_URL).status_code == 200


def test_orders_are_still_placed_while_the_rate_limit_cache_is_down(user_client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }

    assert place(user_client).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_reserve_request_is_published_after_the_order_commits(user_client):
    response = place(user_client)

    assert response.status_code == 201
    row = OutboxMessage.objects.get()
    assert row.type == "inventory.reserve"
    # Published right after commit, or at least tried (the relay sends whatever is left).
    assert row.attempts == 1


# Cancelling an order


def test_cancelling_a_pending_order_cancels_it_and_sends_nothing(user_client, outbox):
    order = OrderFactory(user_id=user_client.identity.id)

    response = user_client.post(cancel_url(order.id))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "cancelled_by_customer"
    assert outbox() == []


def test_cancelling_a_reserved_order_releases_its_stock(user_client, outbox):
    order = OrderFactory(user_id=user_client.identity.id, reserved=True, correlation_id="req-place-1")

    response = user_client.post(cancel_url(order.id), HTTP_X_REQUEST_ID="req-cancel-1")

    assert response.json()["status"] == "cancelled"
    assert outbox() == [("inventory.release", {"order_id": str(order.id)})]
    # Every message of the saga carries the request id that placed the order.
    assert OutboxMessage.objects.get().envelope["correlation_id"] == "req-place-1"


def test_cancelling_a_confirmed_order_refunds_it_and_returns_its_stock(user_client, outbox):
    order = OrderFactory(user_id=user_client.identity.id, confirmed=True)

    response = user_client.post(cancel_url(order.id))

    assert response.json()["cancel_reason"] == "cancelled_by_customer"
    assert outbox() == [
        ("payments.refund", {"order_id": str(order.id)}),
        ("inventory.restock", {"order_id": str(order.id)}),
    ]


def test_cancelling_a_cancelled_order_answers_it_unchanged(user_client, outbox):
    order = OrderFactory(user_id=user_client.identity.id, cancelled=True)

    response = user_client.post(cancel_url(order.id))

    assert response.status_code == 200
    assert response.json()["cancel_reason"] == "out_of_stock"
    assert order.history.count() == 0
    assert outbox() == []


def test_cancelling_twice_compensates_once(user_client, outbox):
    order = OrderFactory(user_id=user_client.identity.id, confirmed=True)

    user_client.post(cancel_url(order.id))
    user_client.post(cancel_url(order.id))

    assert [message_type for message_type, _ in outbox()] == ["payments.refund", "inventory.restock"]


def test_cancelling_another_users_order_is_not_found_and_changes_nothing(user_client, outbox):
    order = OrderFactory(reserved=True)

    assert_envelope(user_client.post(cancel_url(order.id)), status=404, error_type="client_error", code="not_found")
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    assert outbox() == []


def test_staff_cancels_any_order(staff_client):
    order = OrderFactory(reserved=True)

    response = staff_client.post(cancel_url(order.id))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.cancel_reason == CancelReason.CANCELLED_BY_CUSTOMER


def test_cancelling_an_unknown_order_is_not_found(user_client):
    assert_envelope(user_client.post(cancel_url(uuid.uuid4())), status=404, error_type="client_error", code="not_found")


def test_anonymous_caller_cannot_cancel(api_client):
    order = OrderFactory()

    assert_envelope(
        api_client.post(cancel_url(order.id)), status=401, error_type="client_error", code="not_authenticated"
    )


def test_cancel_takes_only_post(user_client):
    order = OrderFactory(user_id=user_client.identity.id)

    assert_envelope(
        user_client.get(cancel_url(order.id)), status=405, error_type="client_error", code="method_not_allowed"
    )
