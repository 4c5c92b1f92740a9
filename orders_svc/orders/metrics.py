"""orders_svc's figures: orders by what happened to them, how long each took to settle, orders in flight."""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from prometheus_client import Counter, Histogram
from service_kit.metrics import LATENCY_BUCKETS, gauge, scrape_collector

from .models import Order, OrderStatus

ORDERS = Counter(
    "shop_orders", "Orders placed, confirmed and cancelled (with the cancellation's reason).", ["event", "reason"]
)
ORDER_SETTLED = Histogram(
    "shop_order_settle_seconds",
    "From an order's POST to its first terminal status (confirmed, or cancelled before it was), by that status.",
    ["status"],
    buckets=LATENCY_BUCKETS,
)


def order_counted(*, order: Order, event: str, reason: str | None = None, settled: bool = False) -> None:
    """Count what happened to the order once its transaction commits (a rolled-back move is not counted)."""

    def count() -> None:
        ORDERS.labels(event, reason or "").inc()
        if settled:
            ORDER_SETTLED.labels(event).observe(max((timezone.now() - order.created_at).total_seconds(), 0.0))

    transaction.on_commit(count)


@scrape_collector
def orders_in_flight():
    """Orders not terminal yet, by status, the age of the oldest in its status, and the bound it may reach
    (a pending order is cancelled past ORDER_SAGA_TIMEOUT from its POST, a reserved one expires past
    ORDER_PAYMENT_TIMEOUT from its reservation)."""
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*), "  # noqa: S608 (table name)
            "EXTRACT(EPOCH FROM now() - min(CASE WHEN status = %s THEN reserved_at ELSE created_at END)) "
            f"FROM {table} WHERE status IN (%s, %s) GROUP BY status",
            [OrderStatus.RESERVED, OrderStatus.PENDING, OrderStatus.RESERVED],
        )
        found = {status: (count, age) for status, count, age in cursor.fetchall()}
    statuses = (OrderStatus.PENDING, OrderStatus.RESERVED)
    figures = {status: found.get(status, (0, 0)) for status in statuses}
    yield gauge(
        "shop_orders_in_flight", "Orders not terminal yet, by status.",
        labels=["status"], samples=[([status], count) for status, (count, _) in figures.items()],
    )  # fmt: skip
    yield gauge(
        "shop_orders_in_flight_oldest_age_seconds",
        "Seconds the oldest order of a status has been in it (pending: since its POST; 0: none).",
        labels=["status"], samples=[([status], float(age or 0)) for status, (_, age) in figures.items()],
    )  # fmt: skip
    bounds = {OrderStatus.PENDING: settings.ORDER_SAGA_TIMEOUT, OrderStatus.RESERVED: settings.ORDER_PAYMENT_TIMEOUT}
    yield gauge(
        "shop_orders_in_flight_bound_seconds", "Seconds an order may stay in a status before the saga ends it.",
        labels=["status"], samples=[([status], bound) for status, bound in bounds.items()],
    )  # fmt: skip
