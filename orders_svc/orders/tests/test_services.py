"""Order services: what is stored, which moves the saga may make, and the expiry of reservations."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from service_kit.conf import kit_settings
from service_kit.models import OutboxMessage

from orders.models import CancelReason, Order, OrderStatus
from orders.services import (
    IdempotencyConflict,
    InvalidOrder,
    InvalidTransition,
    order_fingerprint,
    order_mark_reserved,
    order_place,
    order_transition,
    orders_drive_stale,
    orders_expire_stale,
    saga_message_id,
)

from .factories import OrderFactory

pytestmark = pytest.mark.django_db

LINES = [{"sku": "DEMO-MUG", "quantity": 2}, {"sku": "DEMO-POSTER", "quantity": 1}]


def create(**overrides) -> Order:
    """An order placed as the API places it (its reserve request queued too)."""
    arguments = {"user_id": uuid.uuid4(), "lines": LINES, "payment_method": "pm_card_visa", **overrides}
    order, _ = order_place(**arguments)
    return order


def history_of(order: Order) -> list[tuple[str, str | None]]:
    return list(order.history.values_list("status", "reason"))


def test_order_place_stores_a_pending_order_with_its_lines_and_first_history_row():
    user_id = uuid.uuid4()

    order = create(user_id=user_id, correlation_id="req-1")

    order.refresh_from_db()
    assert order.user_id == user_id
    assert order.status == OrderStatus.PENDING
    assert order.total is None
    assert order.payment_method == "pm_card_visa"
    assert order.correlation_id == "req-1"
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("DEMO-MUG", 2, None),
        ("DEMO-POSTER", 1, None),
    ]
    assert history_of(order) == [("pending", None)]


def test_order_place_keeps_the_fingerprint_of_the_request():
    order = create(idempotency_key="key-1")

    assert order.idempotency_key == "key-1"
    assert order.request_fingerprint == order_fingerprint(lines=LINES, payment_method="pm_card_visa")


def test_fingerprint_ignores_line_order_but_not_content():
    same = order_fingerprint(lines=list(reversed(LINES)), payment_method="pm_card_visa")
    other_quantity = order_fingerprint(lines=[{"sku": "DEMO-MUG", "quantity": 3}], payment_method="pm_card_visa")

    assert same == order_fingerprint(lines=LINES, payment_method="pm_card_visa")
    assert other_quantity != same
    assert order_fingerprint(lines=LINES, payment_method="pm_card_chargeDeclined") != same


def test_order_place_with_a_used_key_and_same_request_returns_the_first_order():
    user_id = uuid.uuid4()
    first = create(user_id=user_id, idempotency_key="key-1")

    again = create(user_id=user_id, idempotency_key="key-1", lines=list(reversed(LINES)))

    assert again.id == first.id
    assert Order.objects.count() == 1


def test_order_place_with_a_used_key_and_another_request_is_a_conflict():
    user_id = uuid.uuid4()
    create(user_id=user_id, idempotency_key="key-1")

    with pytest.raises(IdempotencyConflict):
        create(user_id=user_id, idempotency_key="key-1", payment_method="pm_card_chargeDeclined")
    assert Order.objects.count() == 1


def test_order_place_with_another_users_key_makes_a_new_order():
    create(idempotency_key="key-1")
    create(idempotency_key="key-1")

    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"sku": "DEMO-MUG", "quantity": 1}, {"sku": "DEMO-MUG", "quantity": 2}],
        [{"sku": "DEMO-MUG", "quantity": 0}],
        [{"sku": "DEMO-MUG", "quantity": 1001}],
    ],
    ids=["no lines", "repeated sku", "zero quantity", "too many"],
)
def test_order_place_refuses_invalid_lines_and_stores_nothing(lines):
    with pytest.raises(InvalidOrder):
        create(lines=lines)
    assert Order.objects.count() == 0


def test_order_moves_forward_through_reserved_to_confirmed_with_history():
    order = create()
    order.total = Decimal("27.00")
    order.save(update_fields=["total"])

    order_transition(order=order, to_status=OrderStatus.RESERVED)
    order_transition(order=order, to_status=OrderStatus.CONFIRMED)

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert history_of(order) == [("pending", None), ("reserved", None), ("confirmed", None)]


@pytest.mark.parametrize("traits", [{}, {"reserved": True}])
def test_pending_or_reserved_order_can_be_cancelled_for_any_reason(traits):
    order = OrderFactory(**traits)

    order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.PAYMENT_DECLINED)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == CancelReason.PAYMENT_DECLINED
    assert history_of(order) == [("cancelled", "payment_declined")]


def test_confirmed_order_can_be_cancelled_by_its_customer():
    order = OrderFactory(confirmed=True)

    order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.CANCELLED_BY_CUSTOMER)

    order.refresh_from_db()
    assert order.cancel_reason == CancelReason.CANCELLED_BY_CUSTOMER


def test_confirmed_order_cannot_be_cancelled_for_another_reason():
    order = OrderFactory(confirmed=True)

    with pytest.raises(InvalidTransition):
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.EXPIRED)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.history.count() == 0


@pytest.mark.parametrize(
    ("traits", "to_status"),
    [
        ({}, OrderStatus.CONFIRMED),
        ({}, OrderStatus.PENDING),
        ({"reserved": True}, OrderStatus.PENDING),
        ({"reserved": True}, OrderStatus.RESERVED),
        ({"confirmed": True}, OrderStatus.RESERVED),
        ({"cancelled": True}, OrderStatus.PENDING),
        ({"cancelled": True}, OrderStatus.RESERVED),
        ({"cancelled": True}, OrderStatus.CONFIRMED),
    ],
)
def test_backward_skipping_or_repeated_moves_are_refused(traits, to_status):
    order = OrderFactory(**traits)
    before = order.status

    with pytest.raises(InvalidTransition):
        order_transition(order=order, to_status=to_status)
    order.refresh_from_db()
    assert order.status == before
    assert order.history.count() == 0


def test_cancelled_order_cannot_be_cancelled_again():
    order = OrderFactory(cancelled=True)

    with pytest.raises(InvalidTransition):
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.CANCELLED_BY_CUSTOMER)


@pytest.mark.parametrize("reason", [None, "bored"])
def test_cancelling_needs_a_known_reason(reason):
    order = OrderFactory()

    with pytest.raises(InvalidTransition):
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=reason)


def test_a_reason_on_a_move_other_than_cancelling_is_refused():
    order = OrderFactory(total=Decimal("1.00"))

    with pytest.raises(InvalidTransition):
        order_transition(order=order, to_status=OrderStatus.RESERVED, reason=CancelReason.EXPIRED)


def test_transition_checks_the_stored_status_not_a_stale_copy():
    order = OrderFactory(reserved=True)
    stale = Order.objects.get(pk=order.pk)
    order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.EXPIRED)

    with pytest.raises(InvalidTransition):
        order_transition(order=stale, to_status=OrderStatus.CONFIRMED)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_reserving_records_when_the_order_became_reserved():
    order = OrderFactory(total=Decimal("1.00"))
    before = timezone.now()

    order_transition(order=order, to_status=OrderStatus.RESERVED)

    order.refresh_from_db()
    assert order.reserved_at >= before


# order_place


def test_order_place_stores_the_order_and_its_reserve_request_together(outbox):
    order, created = order_place(
        user_id=uuid.uuid4(), lines=LINES, payment_method="pm_card_visa", correlation_id="req-1"
    )

    assert created
    assert outbox() == [("inventory.reserve", {"order_id": str(order.id), "lines": LINES})]


def test_order_place_replayed_sends_nothing_again(outbox):
    user_id = uuid.uuid4()
    first, _ = order_place(user_id=user_id, lines=LINES, payment_method="pm_card_visa", idempotency_key="key-1")

    again, created = order_place(user_id=user_id, lines=LINES, payment_method="pm_card_visa", idempotency_key="key-1")

    assert not created
    assert again.id == first.id
    assert len(outbox()) == 1


def test_order_place_refusing_invalid_lines_sends_nothing(outbox):
    with pytest.raises(InvalidOrder):
        order_place(user_id=uuid.uuid4(), lines=[], payment_method="pm_card_visa")
    assert outbox() == []


def test_order_place_in_a_transaction_failing_after_the_outbox_insert_stores_and_sends_nothing(
    outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as publishes, pytest.raises(RuntimeError), transaction.atomic():
        order_place(user_id=uuid.uuid4(), lines=LINES, payment_method="pm_card_visa")
        assert [message_type for message_type, _ in outbox()] == ["inventory.reserve"]
        raise RuntimeError("the transaction fails after the outbox insert")

    assert outbox() == []
    assert not Order.objects.exists()
    assert publishes == []


# orders_expire_stale


def reserved_since(seconds: int, **traits) -> Order:
    return OrderFactory(**{"reserved": True, **traits}, reserved_at=timezone.now() - timedelta(seconds=seconds))


def test_order_reserved_longer_than_the_timeout_expires_and_releases_its_stock(settings, outbox):
    settings.ORDER_PAYMENT_TIMEOUT = 120
    stale = reserved_since(121, correlation_id="req-1")

    assert orders_expire_stale() == 1

    stale.refresh_from_db()
    assert stale.status == OrderStatus.CANCELLED
    assert stale.cancel_reason == CancelReason.EXPIRED
    assert list(stale.history.values_list("status", "reason")) == [("cancelled", "expired")]
    # Its stock back, and a charge whose answer never came refunded (a refund of nothing does nothing).
    assert outbox() == [
        ("inventory.release", {"order_id": str(stale.id)}),
        ("payments.refund", {"order_id": str(stale.id)}),
    ]


def test_only_stale_reserved_orders_expire(settings, outbox):
    settings.ORDER_PAYMENT_TIMEOUT = 120
    stale = reserved_since(600)
    fresh = reserved_since(60)
    old_pending = OrderFactory(created_at=timezone.now() - timedelta(hours=1))
    old_confirmed = reserved_since(600, reserved=False, confirmed=True)
    old_cancelled = reserved_since(600, reserved=False, cancelled=True)

    assert orders_expire_stale() == 1

    assert Order.objects.get(id=stale.id).status == OrderStatus.CANCELLED
    assert Order.objects.get(id=fresh.id).status == OrderStatus.RESERVED
    assert Order.objects.get(id=old_pending.id).status == OrderStatus.PENDING
    assert Order.objects.get(id=old_confirmed.id).status == OrderStatus.CONFIRMED
    assert Order.objects.get(id=old_cancelled.id).cancel_reason == CancelReason.OUT_OF_STOCK
    assert [payload["order_id"] for _, payload in outbox()] == [str(stale.id)] * 2


def test_expiry_follows_the_payment_timeout_setting(settings):
    order = reserved_since(30)
    settings.ORDER_PAYMENT_TIMEOUT = 60
    assert orders_expire_stale() == 0

    settings.ORDER_PAYMENT_TIMEOUT = 10
    assert orders_expire_stale() == 1
    order.refresh_from_db()
    assert order.cancel_reason == CancelReason.EXPIRED


def test_expiry_run_twice_expires_once(outbox):
    reserved_since(3600)

    assert orders_expire_stale() == 1
    assert orders_expire_stale() == 0
    assert len(outbox()) == 2


def test_expiry_and_the_saga_driver_are_run_by_the_outbox_relay():
    periodic = [import_string(path) for path in kit_settings.RELAY_PERIODIC]
    assert orders_expire_stale in periodic and orders_drive_stale in periodic


# orders_drive_stale


def placed_seconds_ago(seconds: int) -> Order:
    """A pending order placed through the service, its request sent `seconds` ago."""
    order, _ = order_place(
        user_id=uuid.uuid4(), lines=[{"sku": "DEMO-MUG", "quantity": 1}], payment_method="pm_card_visa"
    )
    past = timezone.now() - timedelta(seconds=seconds)
    Order.objects.filter(pk=order.pk).update(created_at=past, updated_at=past)
    OutboxMessage.objects.filter(type="inventory.reserve").update(sent_at=past, created_at=past)
    order.refresh_from_db()
    return order


def test_a_pending_order_without_an_answer_is_asked_again_with_the_same_message(settings, kit_broker):
    settings.ORDER_RETRY_AFTER, settings.ORDER_SAGA_TIMEOUT = 30, 300
    order = placed_seconds_ago(31)
    reserve = OutboxMessage.objects.get(type="inventory.reserve")

    assert orders_drive_stale() == 1

    assert reserve.message_id == uuid.UUID(saga_message_id(order_id=order.id, type="inventory.reserve"))
    assert [task["id"] for task in kit_broker.messages("inventory")] == [str(reserve.message_id)]
    reserve.refresh_from_db()
    assert reserve.attempts == 1  # the driver's (a test transaction never commits, so no after-commit send)
    # Not again before another wait, and the order is still waiting, not ended.
    assert orders_drive_stale() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_no_order_is_asked_again_while_a_backlog_may_hold_its_request_or_the_answer(settings, kit_broker):
    settings.ORDER_RETRY_AFTER, settings.ORDER_SAGA_TIMEOUT = 30, 300
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "REDELIVER_BACKLOG": 2}
    placed_seconds_ago(31)
    for queue in ("inventory", "orders"):  # the request's queue, then the one its answer waits in
        kit_broker.client.rpush(queue, *[b"{}"] * 3)

        assert orders_drive_stale() == 0

        kit_broker.client.delete(queue)
    assert orders_drive_stale() == 1  # no backlog left: asked again
    assert len(kit_broker.messages("inventory")) == 1


def test_a_fresh_pending_order_is_left_alone(settings, kit_broker):
    settings.ORDER_RETRY_AFTER, settings.ORDER_SAGA_TIMEOUT = 30, 300
    placed_seconds_ago(5)

    assert orders_drive_stale() == 0
    assert kit_broker.messages("inventory") == []


def test_a_reserved_order_without_a_payment_answer_is_charged_again_with_the_same_message(settings, kit_broker):
    settings.ORDER_RETRY_AFTER = 30
    order = placed_seconds_ago(60)
    order_mark_reserved(
        order_id=order.id,
        lines=[{"sku": "DEMO-MUG", "unit_price": Decimal("12.50")}],
        total=Decimal("12.50"),
        currency="USD",
    )
    past = timezone.now() - timedelta(seconds=31)
    Order.objects.filter(pk=order.pk).update(updated_at=past)
    OutboxMessage.objects.filter(type="payments.charge").update(sent_at=past)

    assert orders_drive_stale() == 1

    charge_id = saga_message_id(order_id=order.id, type="payments.charge")
    assert [task["id"] for task in kit_broker.messages("payments")] == [charge_id]


def test_a_pending_order_past_the_saga_timeout_is_cancelled_and_its_stock_released(settings, outbox, kit_broker):
    settings.ORDER_RETRY_AFTER, settings.ORDER_SAGA_TIMEOUT = 30, 300
    order = placed_seconds_ago(301)

    orders_drive_stale()

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.SAGA_TIMEOUT)
    assert outbox()[-1] == ("inventory.release", {"order_id": str(order.id)})
    # A late reservation for it is released in turn (order_mark_reserved of a cancelled order).
    order_mark_reserved(order_id=order.id, lines=[], total=Decimal("0.00"), currency="USD")
    assert [message_type for message_type, _ in outbox()].count("inventory.release") == 2
