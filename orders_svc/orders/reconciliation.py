"""Reconciliation: orders compared with payments and inventory over their internal APIs, findings stored.

A confirmed order has exactly one succeeded payment of its total and currency, and a committed reservation of
its lines. A cancelled order has no net charge (no payment, a declined or a refunded one) and holds no stock
(its reservation released, rejected, returned, or none). Orders in flight (pending, reserved) changed within
RECONCILE_SETTLE_SECONDS are skipped, and so is every order changed that recently: the saga's last messages may
still be on their way. Each SKU of the compared orders has `reserved` equal to its held reservation lines.

Bounded work per run: orders changed in the last RECONCILE_WINDOW_HOURS, at most RECONCILE_MAX_ORDERS of them,
looked up in batches. Run by `manage.py reconcile`, and by the outbox relay every RECONCILE_EVERY seconds.
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from .clients import InternalClient, ServiceUnavailable
from .models import FindingKind, Order, OrderStatus, ReconciliationFinding, ReconciliationRun

logger = logging.getLogger("orders.reconciliation")

IN_FLIGHT = (OrderStatus.PENDING, OrderStatus.RESERVED)
# Reservation statuses that hold no stock, and payment statuses that leave no net charge.
STOCK_GIVEN_BACK = {"released", "rejected", "returned"}
NO_NET_CHARGE = {"declined", "refunded"}
# One advisory lock key: two relays (or a relay and an operator) never run at once.
ADVISORY_LOCK_KEY = 0x6F72645F7265636F  # "ord_reco"


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    order_id: uuid.UUID | None = None
    sku: str = ""


@dataclass(frozen=True)
class OrderFacts:
    """What orders_svc knows of an order: the side the other services are compared with."""

    id: uuid.UUID
    status: str
    total: Decimal | None
    currency: str
    lines: dict[str, int]
    updated_at: datetime


def _money(value) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return None


# COMPARISON (pure functions: the facts in, the findings out)


def compare_order(
    order: OrderFacts, *, payments: list[dict], reservation: dict | None, stuck_before: datetime
) -> list[Finding]:
    """The findings about one order, given its payments and reservation as the other services hold them."""
    found: list[Finding] = []

    def add(kind: str, detail: str) -> None:
        found.append(Finding(kind=kind, detail=detail, order_id=order.id))

    if order.status in IN_FLIGHT:
        if order.updated_at < stuck_before:
            add(FindingKind.ORDER_STUCK, f"Order {order.status} since {order.updated_at.isoformat()}.")
        return found

    if len(payments) > 1:
        add(FindingKind.PAYMENT_DUPLICATED, f"{len(payments)} payments: {sorted(p['id'] for p in payments)}.")

    if order.status == OrderStatus.CONFIRMED:
        succeeded = [p for p in payments if p.get("status") == "succeeded"]
        if not payments:
            add(FindingKind.PAYMENT_MISSING, "No payment for a confirmed order.")
        elif not succeeded:
            add(FindingKind.PAYMENT_NOT_SUCCEEDED, f"Payment status {payments[0].get('status')!r}.")
        for payment in succeeded:
            amount = _money(payment.get("amount"))
            if amount != _money(order.total) or payment.get("currency") != order.currency:
                add(
                    FindingKind.PAYMENT_AMOUNT_MISMATCH,
                    f"Payment {payment.get('id')} is {payment.get('amount')} {payment.get('currency')}, "
                    f"the order {order.total} {order.currency}.",
                )
        if reservation is None:
            add(FindingKind.RESERVATION_MISSING, "No reservation for a confirmed order.")
        else:
            if reservation.get("status") != "committed":
                add(FindingKind.RESERVATION_NOT_COMMITTED, f"Reservation status {reservation.get('status')!r}.")
            reserved_lines = {line["sku"]: int(line["quantity"]) for line in reservation.get("lines", [])}
            if reserved_lines != order.lines:
                add(FindingKind.RESERVATION_LINES_MISMATCH, f"Order lines {order.lines}, reserved {reserved_lines}.")

    elif order.status == OrderStatus.CANCELLED:
        for payment in payments:
            if payment.get("status") not in NO_NET_CHARGE:
                add(
                    FindingKind.CHARGE_NOT_REFUNDED,
                    f"Payment {payment.get('id')} of {payment.get('amount')} {payment.get('currency')} "
                    f"is {payment.get('status')!r}.",
                )
        if reservation is not None and reservation.get("status") not in STOCK_GIVEN_BACK:
            add(FindingKind.STOCK_STILL_HELD, f"Reservation status {reservation.get('status')!r}.")

    return found


def compare_stock(row: dict) -> list[Finding]:
    """The findings about one SKU's ledger: reserved units are exactly the held reservation lines."""
    found = []
    sku, on_hand, reserved, held = row["sku"], int(row["on_hand"]), int(row["reserved"]), int(row["held_quantity"])
    if reserved != held:
        found.append(
            Finding(
                kind=FindingKind.STOCK_RESERVED_MISMATCH,
                detail=f"{reserved} reserved, {held} in held reservation lines.",
                sku=sku,
            )
        )
    if reserved > on_hand:
        found.append(
            Finding(kind=FindingKind.STOCK_OVER_RESERVED, detail=f"{reserved} reserved of {on_hand}.", sku=sku)
        )
    return found


# RUNS


def _orders_to_compare(*, window_start: datetime, window_end: datetime, limit: int) -> list[OrderFacts]:
    orders = (
        Order.objects.filter(updated_at__gte=window_start, updated_at__lt=window_end)
        .order_by("updated_at", "id")
        .prefetch_related("lines")[:limit]
    )
    return [
        OrderFacts(
            id=order.id,
            status=order.status,
            total=order.total,
            currency=order.currency,
            lines={line.sku: line.quantity for line in order.lines.all()},
            updated_at=order.updated_at,
        )
        for order in orders
    ]


def compare_all(
    orders: list[OrderFacts], client: InternalClient, *, stuck_before: datetime
) -> tuple[list[Finding], int]:
    """(findings, SKUs checked) of the given orders, asking the other services in batches."""
    settled = [order for order in orders if order.status not in IN_FLIGHT]
    payments = client.payments_by_order(order.id for order in settled)
    reservations = client.reservations_by_order(order.id for order in settled)
    findings: list[Finding] = []
    for order in orders:
        findings += compare_order(
            order,
            payments=payments.get(str(order.id), []),
            reservation=reservations.get(str(order.id)),
            stuck_before=stuck_before,
        )
    skus = {sku for order in orders for sku in order.lines}
    ledger = client.stock_ledger(skus)
    for row in ledger:
        findings += compare_stock(row)
    return findings, len(ledger)


def _record(run: ReconciliationRun, findings: Iterable[Finding]) -> None:
    rows = [
        ReconciliationFinding(run=run, order_id=f.order_id, sku=f.sku, kind=f.kind, detail=f.detail) for f in findings
    ]
    ReconciliationFinding.objects.bulk_create(rows)
    for finding in rows:
        logger.error(
            "reconciliation finding",
            extra={
                "run_id": run.pk,
                "kind": finding.kind,
                "order_id": str(finding.order_id) if finding.order_id else None,
                "sku": finding.sku or None,
                "detail": finding.detail,
            },
        )


def reconciliation_run(
    *,
    trigger: str = ReconciliationRun.Trigger.COMMAND,
    window_hours: float | None = None,
    settle_seconds: float | None = None,
    client: InternalClient | None = None,
) -> ReconciliationRun:
    """One run, stored with its findings; a run that cannot reach a service is stored as failed."""
    now = timezone.now()
    window_hours = settings.RECONCILE_WINDOW_HOURS if window_hours is None else window_hours
    settle_seconds = settings.RECONCILE_SETTLE_SECONDS if settle_seconds is None else settle_seconds
    window_end = now - timedelta(seconds=settle_seconds)
    run = ReconciliationRun.objects.create(
        trigger=trigger, window_start=now - timedelta(hours=window_hours), window_end=window_end, started_at=now
    )
    own_client = client is None
    try:
        if own_client:
            client = InternalClient.from_settings(request_id=f"reconcile-{run.pk}")
        orders = _orders_to_compare(
            window_start=run.window_start, window_end=window_end, limit=settings.RECONCILE_MAX_ORDERS
        )
        findings, skus_checked = compare_all(orders, client, stuck_before=window_end)
    except ServiceUnavailable as exc:
        run.status, run.error = ReconciliationRun.Status.FAILED, str(exc)
        logger.error("reconciliation failed", extra={"run_id": run.pk, "error": str(exc)})
    else:
        with transaction.atomic():
            _record(run, findings)
        run.status = ReconciliationRun.Status.SUCCEEDED
        run.orders_checked, run.skus_checked, run.findings_count = len(orders), skus_checked, len(findings)
        logger.info(
            "reconciliation done",
            extra={"run_id": run.pk, "orders": len(orders), "skus": skus_checked, "findings": len(findings)},
        )
    finally:
        if own_client and client is not None:
            client.close()
        run.finished_at = timezone.now()
        run.save()
    return run


def reconciliation_run_exclusive(**kwargs) -> ReconciliationRun | None:
    """A run unless another process is running one (a PostgreSQL advisory lock decides); None then."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
    try:
        return reconciliation_run(**kwargs)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


# SCHEDULE: the relay calls reconcile_when_due every sweep (about a second); a run is due every RECONCILE_EVERY
# seconds and goes in a thread of its own, so HTTP calls to other services never hold up the outbox.

_schedule_lock = threading.Lock()
_next_check_at = 0.0
_running: threading.Thread | None = None


def _scheduled_run() -> None:
    try:
        reconciliation_run_exclusive(trigger=ReconciliationRun.Trigger.SCHEDULE)
    except Exception:  # a run that crashes must not kill the relay's thread silently
        logger.exception("reconciliation crashed")
    finally:
        connection.close()


def reconcile_when_due() -> bool:
    """Starts a scheduled run when RECONCILE_EVERY seconds passed since the last one began; True if started."""
    global _next_check_at, _running
    every = settings.RECONCILE_EVERY
    if every <= 0:
        return False
    with _schedule_lock:
        if time.monotonic() < _next_check_at or (_running is not None and _running.is_alive()):
            return False
        _next_check_at = time.monotonic() + min(every, 60)
        close_old_connections()
        last = ReconciliationRun.objects.order_by("-started_at").values_list("started_at", flat=True).first()
        if last is not None and timezone.now() - last < timedelta(seconds=every):
            _next_check_at = time.monotonic() + (timedelta(seconds=every) - (timezone.now() - last)).total_seconds()
            return False
        _running = threading.Thread(target=_scheduled_run, name="reconciliation", daemon=True)
        _running.start()
        return True
