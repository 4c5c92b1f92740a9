"""Writes on orders: placing one, moving it along the saga forward only, and the saga's messages."""

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from service_kit.exceptions import Conflict, Invalid, Unprocessable
from service_kit.messaging.outbox import outbox_enqueue, outbox_send_again
from service_kit.messaging.relay import Backlogs
from service_kit.models import OutboxMessage

from .metrics import order_counted
from .models import CancelReason, Order, OrderLine, OrderStatus, OrderStatusChange

logger = logging.getLogger(__name__)

MAX_LINE_QUANTITY = 1000
# Stripe's test tokens, the only methods the simulated card gateway knows.
PAYMENT_METHODS = ("pm_card_visa", "pm_card_chargeDeclined")
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
EXPIRE_BATCH_SIZE = 100

# Where each status may go next; cancelled is terminal.
_NEXT_STATUSES = {
    OrderStatus.PENDING: {OrderStatus.RESERVED, OrderStatus.CANCELLED},
    OrderStatus.RESERVED: {OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.CANCELLED},
    OrderStatus.CANCELLED: set(),
}


class InvalidOrder(Invalid):
    """The lines of a new order break a rule (none, a repeated sku, a quantity out of range)."""


class InvalidTransition(Conflict):
    """The order cannot move to the requested status from where it is."""

    default_code = "invalid_transition"


class IdempotencyConflict(Unprocessable):
    """The idempotency key was already used by this user with a different request."""

    default_code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request."


def order_fingerprint(*, lines: Sequence[Mapping], payment_method: str) -> str:
    """SHA-256 of the request in canonical form, so key order and line order do not matter."""
    canonical = {
        "lines": sorted([str(line["sku"]), int(line["quantity"])] for line in lines),
        "payment_method": payment_method,
    }
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def _validate_lines(lines: Sequence[Mapping]) -> None:
    if not lines:
        raise InvalidOrder("An order needs at least one line.", field="lines")
    skus = [line["sku"] for line in lines]
    if len(set(skus)) != len(skus):
        raise InvalidOrder("Each sku may appear only once in an order.", field="lines")
    for line in lines:
        if not 1 <= int(line["quantity"]) <= MAX_LINE_QUANTITY:
            raise InvalidOrder(f"Quantity must be between 1 and {MAX_LINE_QUANTITY}.", field="lines")


def _order_replayed(*, user_id: UUID | str, idempotency_key: str, fingerprint: str) -> Order | None:
    """The order this user placed with this key within the key's lifetime, or None. A key past its lifetime
    no longer counts: it is cleared on its old order so it can be used again."""
    order = Order.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
    if order is None:
        return None
    if order.created_at < timezone.now() - IDEMPOTENCY_KEY_LIFETIME:
        Order.objects.filter(pk=order.pk, idempotency_key=idempotency_key).update(idempotency_key=None)
        return None
    if order.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return order


def _order_create_or_replay(
    *,
    user_id: UUID | str,
    lines: Sequence[Mapping],
    payment_method: str,
    idempotency_key: str | None,
    correlation_id: str,
) -> tuple[Order, bool]:
    """Run inside the caller's transaction."""
    _validate_lines(lines)
    fingerprint = order_fingerprint(lines=lines, payment_method=payment_method)
    if idempotency_key is not None:
        replayed = _order_replayed(user_id=user_id, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replayed is not None:
            return replayed, False
    try:
        # A savepoint only where a conflict on the key is answered rather than raised.
        with transaction.atomic(savepoint=idempotency_key is not None):
            order = Order.objects.create(
                user_id=user_id,
                payment_method=payment_method,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                correlation_id=correlation_id,
            )
            OrderLine.objects.bulk_create(
                OrderLine(order=order, sku=line["sku"], quantity=line["quantity"]) for line in lines
            )
            OrderStatusChange.objects.create(order=order, status=order.status)
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as its replay.
        if idempotency_key is None:
            raise
        replayed = _order_replayed(user_id=user_id, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replayed is None:
            raise
        return replayed, False
    return order, True


def order_place(
    *,
    user_id: UUID | str,
    lines: Sequence[Mapping],
    payment_method: str,
    idempotency_key: str | None = None,
    correlation_id: str = "",
) -> tuple[Order, bool]:
    """Store a pending order and ask inventory to reserve its lines, in one transaction.

    Returns the order and whether it is new; a replayed idempotent request sends nothing again.
    """
    with transaction.atomic():
        order, created = _order_create_or_replay(
            user_id=user_id,
            lines=lines,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )
        if created:
            order_counted(order=order, event="placed")
            _send(
                order=order,
                type="inventory.reserve",
                payload={"lines": [{"sku": line["sku"], "quantity": line["quantity"]} for line in lines]},
                once=True,
            )
    return order, created


def _check_transition(*, from_status: str, to_status: str, reason: str | None) -> None:
    if to_status not in _NEXT_STATUSES.get(from_status, set()):
        raise InvalidTransition(f"An order cannot go from {from_status} to {to_status}.")
    if to_status != OrderStatus.CANCELLED:
        if reason is not None:
            raise InvalidTransition("Only a cancellation takes a reason.")
        return
    if reason not in CancelReason.values:
        raise InvalidTransition("A cancellation needs a known reason.")
    if from_status == OrderStatus.CONFIRMED and reason != CancelReason.CANCELLED_BY_CUSTOMER:
        raise InvalidTransition("A confirmed order can only be cancelled by its customer.")


def order_transition(*, order: Order, to_status: str, reason: str | None = None, **changes: Any) -> Order:
    """Move the order to `to_status` (with other field `changes`) and record it in the history, in one
    transaction.

    One conditional UPDATE moves it only from the status it is stored with, so two saga steps racing on
    one order cannot both win; an order changed since it was read is checked again as stored. A refused
    move raises before anything is written. Reserving needs the total saved with it (a database check
    guards it).
    """
    now = timezone.now()
    if to_status == OrderStatus.RESERVED:
        changes["reserved_at"] = now
    from_status = order.status
    for _ in range(2):
        _check_transition(from_status=from_status, to_status=to_status, reason=reason)
        with transaction.atomic(savepoint=False):
            moved = Order.objects.filter(pk=order.pk, status=from_status).update(
                status=to_status, cancel_reason=reason, updated_at=now, **changes
            )
            if moved:
                OrderStatusChange.objects.create(order=order, status=to_status, reason=reason)
        if moved:
            break
        from_status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
    else:
        raise InvalidTransition(f"An order cannot go from {from_status} to {to_status}.")
    for field, value in {"status": to_status, "cancel_reason": reason, "updated_at": now, **changes}.items():
        setattr(order, field, value)
    if to_status in (OrderStatus.CONFIRMED, OrderStatus.CANCELLED):
        settled = from_status in (OrderStatus.PENDING, OrderStatus.RESERVED)
        order_counted(order=order, event=to_status, reason=reason, settled=settled)
    return order


# The saga's requests have one id per order, so the driver can ask again with the very same message.
_SAGA_IDS = uuid.UUID("6f1d3c2e-5b7a-4e9f-8c0d-2a4b6c8e0f13")


def saga_message_id(*, order_id: UUID | str, type: str) -> str:
    """The id of the order's one `inventory.reserve` or `payments.charge`."""
    return str(uuid.uuid5(_SAGA_IDS, f"{type}:{order_id}"))


def _send(*, order: Order, type: str, payload: dict[str, Any] | None = None, once: bool = False) -> None:
    """Enqueue a saga message about the order, correlated with the request that placed it; `once` for a
    request the order makes once, whose id is then the order's own (see `saga_message_id`)."""
    outbox_enqueue(
        type=type,
        payload={"order_id": str(order.id), **(payload or {})},
        correlation_id=order.correlation_id or None,
        message_id=saga_message_id(order_id=order.id, type=type) if once else None,
    )


def _order_locked(*, order_id: UUID | str) -> Order | None:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        logger.warning("message about an unknown order ignored", extra={"order_id": str(order_id)})
    return order


@transaction.atomic(savepoint=False)
def order_cancel(*, order_id: UUID | str) -> Order:
    """Cancel at the customer's request; what already happened is compensated.

    Reserved: the stock is released. Confirmed: the payment is refunded and the stock returned.
    An order already cancelled stays as it is.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    previous = order.status
    if previous == OrderStatus.CANCELLED:
        return order
    order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.CANCELLED_BY_CUSTOMER)
    if previous == OrderStatus.RESERVED:
        _send(order=order, type="inventory.release")
    elif previous == OrderStatus.CONFIRMED:
        _send(order=order, type="payments.refund")
        _send(order=order, type="inventory.restock")
    return order


@transaction.atomic(savepoint=False)
def order_mark_reserved(
    *, order_id: UUID | str, lines: Sequence[Mapping], total: Decimal, currency: str
) -> Order | None:
    """Inventory holds the stock: price the pending order, reserve it and ask payments to charge it.

    A customer may have cancelled while it was pending: then the stock held for it is released.
    """
    order = _order_locked(order_id=order_id)
    if order is None:
        return None
    if order.status == OrderStatus.CANCELLED:
        _send(order=order, type="inventory.release")
        return order
    if order.status != OrderStatus.PENDING:
        return order  # a repeated reply
    prices = {line["sku"]: line["unit_price"] for line in lines}
    order_lines = list(order.lines.all())
    if {line.sku for line in order_lines} != set(prices):
        logger.error("reservation that does not price the order's lines ignored", extra={"order_id": str(order.id)})
        return order
    for line in order_lines:
        line.unit_price = prices[line.sku]
    OrderLine.objects.bulk_update(order_lines, ["unit_price"])
    order_transition(order=order, to_status=OrderStatus.RESERVED, total=total, currency=currency)
    _send(
        order=order,
        type="payments.charge",
        payload={
            "user_id": str(order.user_id),
            "amount": f"{order.total:.2f}",
            "currency": order.currency,
            "payment_method": order.payment_method,
        },
        once=True,
    )
    return order


@transaction.atomic(savepoint=False)
def order_mark_rejected(*, order_id: UUID | str, reason: str) -> Order | None:
    """Inventory could not hold the stock: the pending order is cancelled with its reason."""
    order = _order_locked(order_id=order_id)
    if order is not None and order.status == OrderStatus.PENDING:
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=reason)
    return order


@transaction.atomic(savepoint=False)
def order_mark_paid(*, order_id: UUID | str) -> Order | None:
    """The charge succeeded: the reserved order is confirmed and its stock sold.

    An order cancelled meanwhile (expired, or by its customer) is refunded instead.
    """
    order = _order_locked(order_id=order_id)
    if order is None:
        return None
    if order.status == OrderStatus.RESERVED:
        order_transition(order=order, to_status=OrderStatus.CONFIRMED)
        _send(order=order, type="inventory.commit")
    elif order.status == OrderStatus.CANCELLED:
        _send(order=order, type="payments.refund")
    return order


@transaction.atomic(savepoint=False)
def order_mark_declined(*, order_id: UUID | str) -> Order | None:
    """The charge was declined: the reserved order is cancelled and its stock released."""
    order = _order_locked(order_id=order_id)
    if order is not None and order.status == OrderStatus.RESERVED:
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.PAYMENT_DECLINED)
        _send(order=order, type="inventory.release")
    return order


@transaction.atomic(savepoint=False)
def orders_expire_stale() -> int:
    """Cancel orders reserved longer than ORDER_PAYMENT_TIMEOUT: their stock is released, and a charge
    whose answer never came is refunded (a refund of nothing does nothing).

    Run by the outbox relay every sweep; rows another process holds are skipped, not waited for.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.ORDER_PAYMENT_TIMEOUT)
    stale = (
        Order.objects.select_for_update(skip_locked=True)
        .filter(status=OrderStatus.RESERVED, reserved_at__lt=cutoff)
        .order_by("reserved_at")[:EXPIRE_BATCH_SIZE]
    )
    expired = 0
    for order in stale:
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.EXPIRED)
        _send(order=order, type="inventory.release")
        _send(order=order, type="payments.refund")
        expired += 1
    if expired:
        logger.info("reserved orders expired", extra={"count": expired})
    return expired


@transaction.atomic(savepoint=False)
def orders_drive_stale() -> int:
    """Drive forward the orders that make no progress, then end them; the relay runs it every sweep.

    A pending order waiting for its reservation, or a reserved one for its payment, longer than
    ORDER_RETRY_AFTER seconds is asked again: its `inventory.reserve` or `payments.charge` goes again
    with the same message id, so a late copy changes nothing and a receiver that had it answers again
    with its first reply; not one the receiver dead-lettered, nor while a backlog may still hold the
    request or its reply (the relay's rule for redelivery: a copy would only add to it). A pending order older than
    ORDER_SAGA_TIMEOUT is cancelled (`saga_timeout`) and its stock released, should a reservation have
    been made (reserved ones expire, see above).
    Returns how many orders it touched."""
    now = timezone.now()
    timed_out = (
        Order.objects.select_for_update(skip_locked=True)
        .filter(status=OrderStatus.PENDING, created_at__lt=now - timedelta(seconds=settings.ORDER_SAGA_TIMEOUT))
        .order_by("created_at")[:EXPIRE_BATCH_SIZE]
    )
    ended = 0
    for order in timed_out:
        order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.SAGA_TIMEOUT)
        _send(order=order, type="inventory.release")
        ended += 1
    if ended:
        logger.warning("pending orders cancelled: the saga timed out", extra={"count": ended})

    waited = now - timedelta(seconds=settings.ORDER_RETRY_AFTER)
    waiting = Order.objects.filter(status__in=list(_ASKS), updated_at__lt=waited).order_by("updated_at")
    asked = orders_ask_again(orders=waiting[:EXPIRE_BATCH_SIZE], sent_before=waited, backlogs=Backlogs())
    if asked:
        logger.warning("saga requests without an answer sent again", extra={"count": asked})
    return ended + asked


# What a waiting order waits for: the answer to its one request of that step.
_ASKS = {OrderStatus.PENDING: "inventory.reserve", OrderStatus.RESERVED: "payments.charge"}


@transaction.atomic(savepoint=False)
def orders_ask_again(
    *, orders: Iterable[Order], sent_before: datetime | None = None, backlogs: Backlogs | None = None
) -> int:
    """Send again the request each pending or reserved order waits on, with its same message id (a
    receiver that had it answers again with its first reply); the relay's driver and the admin's
    "ask again" use it. Not a request the receiver dead-lettered: it would only fail again; an operator
    replays the dead letter (or the saga's time-out ends the order). Given `backlogs` (the driver), not a
    request a worker holds or a backlog may hold, or its reply. Returns how many were sent."""
    asks = {
        saga_message_id(order_id=order.id, type=_ASKS[order.status]): _ASKS[order.status]
        for order in orders
        if order.status in _ASKS
    }
    if backlogs is not None:
        asks = {message_id: type for message_id, type in asks.items() if not backlogs.may_hold(type, message_id)}
    ids = list(asks)
    rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(message_id__in=ids, dead_lettered=False)
    if sent_before is not None:
        rows = rows.filter(sent_at__lt=sent_before)
    return outbox_send_again(rows)
