"""Writes: the catalogue, and the stock reservations of the order saga (all lines or none, never oversold)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from service_kit.exceptions import Conflict, NotFound
from service_kit.messaging.outbox import outbox_enqueue

from .models import CURRENCY, Product, Reservation, ReservationLine

MAX_ON_HAND = 1_000_000_000


class ProductInUseError(Conflict):
    """The product appears in reservations, which keep their history."""

    default_code = "product_in_use"


class ProductNotFound(NotFound):
    """No product has this SKU."""


# CATALOGUE


def product_create(*, sku: str, name: str, price: Decimal, stock: int, description: str = "") -> Product:
    if stock > MAX_ON_HAND:
        raise ValidationError({"stock": f"Stock cannot exceed {MAX_ON_HAND}."})
    product = Product(sku=sku, name=name, description=description, price=price, on_hand=stock)
    product.full_clean()
    try:
        with transaction.atomic():
            product.save(force_insert=True)
    except IntegrityError as exc:
        # full_clean saw no such SKU, but a concurrent request created it since.
        raise ValidationError({"sku": ValidationError("Product with this SKU already exists.", code="unique")}) from exc
    return product


def product_update(
    *, sku: str, name: str | None = None, description: str | None = None, price: Decimal | None = None
) -> Product:
    """Changes the catalogue fields only; stock moves through product_stock_add and reservations."""
    changes = {"name": name, "description": description, "price": price}
    changes = {key: value for key, value in changes.items() if value is not None}
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first()
        if product is None:
            raise ProductNotFound()
        for key, value in changes.items():
            setattr(product, key, value)
        product.full_clean(validate_unique=False)
        product.save(update_fields=[*changes, "updated_at"])
    return product


def product_delete(*, sku: str) -> None:
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise ProductNotFound()
    try:
        product.delete()
    except ProtectedError as exc:
        raise ProductInUseError(f"Product {sku} has reservations and cannot be deleted.") from exc


def product_stock_add(*, sku: str, quantity: int) -> Product:
    """Adds units to what the product has on hand (staff's "restock"), up to MAX_ON_HAND."""
    if quantity <= 0:
        raise ValidationError({"quantity": "Quantity must be greater than 0."})
    # One UPDATE adds to whatever is there now, so concurrent restocks and reservations never lose units.
    updated = Product.objects.filter(sku=sku, on_hand__lte=MAX_ON_HAND - quantity).update(
        on_hand=F("on_hand") + quantity, updated_at=timezone.now()
    )
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise ProductNotFound()
    if not updated:
        raise ValidationError(
            {"quantity": ValidationError(f"Stock cannot exceed {MAX_ON_HAND}.", code="stock_ceiling")}
        )
    return product


# RESERVATIONS (the order saga)


@dataclass(frozen=True)
class ReservedLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ReserveResult:
    """The answer to a reserve request: `reserved` with priced lines, or not, with `reason` and the `skus` at fault."""

    order_id: uuid.UUID
    reserved: bool
    lines: tuple[ReservedLine, ...] = ()
    reason: str | None = None
    skus: tuple[str, ...] = ()
    currency: str = CURRENCY

    @property
    def total(self) -> Decimal | None:
        if not self.reserved:
            return None
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))


def _merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities by SKU, duplicates summed, in SKU order."""
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        sku = str(sku)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValidationError({"lines": f"Quantity of {sku} must be a positive integer."})
        wanted[sku] = wanted.get(sku, 0) + quantity
    if not wanted:
        raise ValidationError({"lines": "An order needs at least one line."})
    return dict(sorted(wanted.items()))


def _lock_products(skus: Iterable[str]) -> dict[str, Product]:
    """Row locks on the products, always taken in SKU order so that concurrent orders cannot deadlock."""
    products = Product.objects.select_for_update().filter(sku__in=list(skus)).order_by("sku")
    return {product.sku: product for product in products}


def _result_of(reservation: Reservation) -> ReserveResult:
    if reservation.status == Reservation.Status.REJECTED:
        return ReserveResult(
            order_id=reservation.order_id,
            reserved=False,
            reason=reservation.reject_reason,
            skus=tuple(reservation.rejected_skus),
        )
    lines = tuple(
        ReservedLine(sku=line.product_id, quantity=line.quantity, unit_price=line.unit_price)
        for line in reservation.lines.order_by("product_id")
    )
    return ReserveResult(order_id=reservation.order_id, reserved=True, lines=lines)


def _reserve(order_id: uuid.UUID, wanted: dict[str, int]) -> ReserveResult:
    with transaction.atomic():
        existing = Reservation.objects.filter(order_id=order_id).first()
        if existing is not None:
            return _result_of(existing)
        products = _lock_products(wanted)
        unknown = [sku for sku in wanted if sku not in products]
        short = [sku for sku, quantity in wanted.items() if sku in products and products[sku].available < quantity]
        if unknown or short:
            reason = Reservation.RejectReason.UNKNOWN_PRODUCT if unknown else Reservation.RejectReason.OUT_OF_STOCK
            reservation = Reservation.objects.create(
                order_id=order_id,
                status=Reservation.Status.REJECTED,
                reject_reason=reason,
                rejected_skus=unknown or short,
            )
            return _result_of(reservation)
        reservation = Reservation.objects.create(order_id=order_id, status=Reservation.Status.HELD)
        now = timezone.now()
        for sku, quantity in wanted.items():
            Product.objects.filter(sku=sku).update(reserved=F("reserved") + quantity, updated_at=now)
        lines = [
            ReservationLine(
                reservation=reservation, product=products[sku], quantity=quantity, unit_price=products[sku].price
            )
            for sku, quantity in wanted.items()
        ]
        ReservationLine.objects.bulk_create(lines)
        # The answer from what was just written (lines in SKU order), not read back.
        return ReserveResult(
            order_id=order_id,
            reserved=True,
            lines=tuple(
                ReservedLine(sku=line.product_id, quantity=line.quantity, unit_price=line.unit_price) for line in lines
            ),
        )


def stock_reserve(*, order_id: uuid.UUID | str, lines: Iterable[tuple[str, int]]) -> ReserveResult:
    """Holds stock for every line of the order at today's prices, or for none of them.

    Idempotent per order: a repeated request (whatever its lines) returns the first answer and changes nothing.
    """
    order_id = uuid.UUID(str(order_id))
    wanted = _merge_lines(lines)
    try:
        return _reserve(order_id, wanted)
    except IntegrityError:
        # A concurrent request for the same order won the unique order_id: its answer is the answer.
        existing = Reservation.objects.filter(order_id=order_id).first()
        if existing is None:
            raise
        return _result_of(existing)


def _reservation_move(
    order_id: uuid.UUID | str, *, source: str, target: str, reserved: int, on_hand: int
) -> Reservation | None:
    """Moves a `source` reservation to `target`, adding each line's quantity times `reserved` and `on_hand`
    (-1, 0 or 1) to its product. Any other reservation (or none) is returned unchanged.

    No savepoint: nothing here is caught and retried. The products' rows are locked by their UPDATEs, one
    after another in SKU order (as `_lock_products` takes them), so concurrent moves and reservations
    cannot deadlock."""
    with transaction.atomic(savepoint=False):
        reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
        if reservation is None or reservation.status != source:
            return reservation
        lines = list(reservation.lines.order_by("product_id"))
        now = timezone.now()
        for line in lines:
            Product.objects.filter(sku=line.product_id).update(
                reserved=F("reserved") + reserved * line.quantity,
                on_hand=F("on_hand") + on_hand * line.quantity,
                updated_at=now,
            )
        reservation.status = target
        reservation.save(update_fields=["status", "updated_at"])
        return reservation


def stock_commit(*, order_id: uuid.UUID | str) -> Reservation | None:
    """Turns held stock into a sale. Anything but a held reservation (or none) is left as it is."""
    return _reservation_move(
        order_id, source=Reservation.Status.HELD, target=Reservation.Status.COMMITTED, reserved=-1, on_hand=-1
    )


def stock_release(*, order_id: uuid.UUID | str) -> Reservation | None:
    """Gives held stock back. A committed (sold) reservation is left as it is: returning sold goods is
    stock_return. Releasing an unknown order does nothing."""
    return _reservation_move(
        order_id, source=Reservation.Status.HELD, target=Reservation.Status.RELEASED, reserved=-1, on_hand=0
    )


def stock_return(*, order_id: uuid.UUID | str) -> Reservation | None:
    """Puts the units of a sold (committed) order back on hand, once.

    Retries can deliver the restock before the order's commit: then the held stock is released instead,
    and the late commit finds nothing to sell. Anything else is left as it is."""
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
        if reservation is not None and reservation.status == Reservation.Status.HELD:
            return stock_release(order_id=order_id)
        return _reservation_move(
            order_id, source=Reservation.Status.COMMITTED, target=Reservation.Status.RETURNED, reserved=0, on_hand=1
        )


# SAGA REPLIES


def _reserve_reply(result: ReserveResult) -> tuple[str, dict]:
    """The message type and payload that tell orders_svc the answer to its reserve request."""
    if not result.reserved:
        return "orders.stock_rejected", {
            "order_id": str(result.order_id),
            "reason": result.reason,
            "skus": list(result.skus),
        }
    return "orders.stock_reserved", {
        "order_id": str(result.order_id),
        "lines": [
            {"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)} for line in result.lines
        ],
        "total": str(result.total),
        "currency": result.currency,
    }


def stock_reserve_and_reply(
    *, order_id: uuid.UUID | str, lines: Iterable[tuple[str, int]], correlation_id: str | None = None
) -> ReserveResult:
    """Reserves the order's stock (or not) and, in the same transaction, queues the answer to orders_svc.

    A repeated request for the order reserves nothing more and queues the first answer again.
    """
    lines = list(lines)
    _merge_lines(lines)  # a refused request raises before the transaction, leaving the caller's intact
    with transaction.atomic(savepoint=False):
        result = stock_reserve(order_id=order_id, lines=lines)
        message_type, payload = _reserve_reply(result)
        outbox_enqueue(type=message_type, payload=payload, correlation_id=correlation_id)
    return result
