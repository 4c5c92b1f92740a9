"""Operator pages for orders: read-only, since status moves only through the saga's rules; an operator
cancels or drives on an order through the same service functions as the API and the relay."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from service_kit.admin import ReadOnlyInline, ViewOnlyAdmin, admin_link, admin_search_link
from service_kit.models import OutboxMessage, ProcessedMessage
from service_kit.tracing import trace_id_of, trace_url

from .clients import InternalClient, ServiceUnavailable
from .models import Order, OrderLine, OrderStatus, ReconciliationFinding, ReconciliationRun
from .services import order_cancel, orders_ask_again


def _as_known_elsewhere(order: Order) -> str:
    order_id = str(order.id)
    try:
        client = InternalClient.from_settings()
        try:
            payments = client.payments_by_order([order_id]).get(order_id, [])
            reservation = client.reservations_by_order([order_id]).get(order_id)
        finally:
            client.close()
    except ServiceUnavailable as exc:
        return f"payments and inventory not asked: {exc}"
    said = [f"payment {p['status']}, {p['amount']} {p['currency']}" for p in payments] or ["no payment"]
    said.append(f"reservation {reservation['status']}" if reservation else "no reservation")
    return "; ".join(said)


def _when(moment) -> str:
    """To the millisecond, with the time zone: messages of one order are often milliseconds apart."""
    if moment is None:
        return "-"
    moment = timezone.localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} {moment:%Z}"


def _message(direction: str, type: str, message_id) -> str:
    # A message is a Celery task of the same id: Flower shows its runs while it remembers them.
    return format_html('{} {} <a href="/flower/task/{}">{}</a>', direction, type, message_id, message_id)


def _delivery(row: OutboxMessage) -> str:
    state = f"sent {_when(row.sent_at)}" if row.sent_at else "not sent yet"
    if row.acknowledged_at:
        state += f", receipt {_when(row.acknowledged_at)}"
    if row.dead_lettered:
        state += ", dead-lettered by its receiver"
    if row.attempts > 1:
        state += f", {row.attempts} sends"
    return state


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "quantity", "unit_price"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ViewOnlyAdmin):
    """Orders by age in each state: filter by status and the oldest, the ones most likely stuck, come
    first when sorted by "in this state since"."""

    list_display = ["id", "user", "status", "cancel_reason", "total", "currency", "created_at", "in_state_for"]
    list_filter = ["status", "cancel_reason"]
    # The correlation id is the request id in every log line of the saga, so an operator can trace one.
    search_fields = ["id", "user_id", "correlation_id"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "user",
        "elsewhere",
        "status",
        "cancel_reason",
        "story",
        "trace",
        "total",
        "currency",
        "payment_method",
        "idempotency_key",
        "request_fingerprint",
        "correlation_id",
        "reserved_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [OrderLineInline]
    actions = ["cancel", "ask_again"]

    @admin.display(description="in this state for", ordering="updated_at")
    def in_state_for(self, order: Order) -> str:
        return timesince(order.updated_at)

    @admin.display(description="user", ordering="user_id")
    def user(self, order: Order) -> str:
        return admin_link("users", "accounts/user", order.user_id)

    @admin.display(description="in the other services")
    def elsewhere(self, order: Order) -> str:
        """Links into the payments and inventory admins, and what those services say of the order now,
        asked over their internal endpoints with orders_svc's service identity (as reconciliation does)."""
        links = format_html(
            "{} · {}",
            admin_search_link("payments", "payments/payment", order.id, "its payment"),
            admin_search_link("inventory", "inventory/reservation", order.id, "its reservation"),
        )
        return format_html("{}<br>{}", links, _as_known_elsewhere(order))

    @admin.display(description="status history and messages, in time order")
    def story(self, order: Order) -> str:
        """Each status the order entered, and each message about it that orders_svc sent or received: its
        type, its id (linked to its task in Flower), the service that sent it and its delivery, to the
        millisecond."""
        order_id = str(order.id)
        events = [
            (change.occurred_at, change.get_status_display() + (f" ({change.reason})" if change.reason else ""), "", "")
            for change in order.history.all()
        ]
        for row in OutboxMessage.objects.filter(envelope__payload__order_id=order_id):
            events.append((row.created_at, _message("sent", row.type, row.message_id), "orders", _delivery(row)))
        for row in ProcessedMessage.objects.filter(envelope__payload__order_id=order_id):
            sent_at = _when(parse_datetime(str(row.envelope.get("occurred_at"))))
            producer = row.envelope.get("producer", "?")
            events.append(
                (row.processed_at, _message("received", row.type, row.message_id), producer, f"sent {sent_at}")
            )
        events.sort(key=lambda event: event[0])
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((_when(at), what, by, more) for at, what, by, more in events),
        )
        return format_html("<table><tr><th>when</th><th>what</th><th>by</th><th>delivery</th></tr>{}</table>", rows)

    @admin.display(description="trace")
    def trace(self, order: Order) -> str:
        """The order's trace (service_kit/tracing.py): the context its first message was written in, the POST's;
        a link where a trace viewer is configured (TRACE_UI_URL), else the id to find in var/<stack>/traces."""
        first = OutboxMessage.objects.filter(envelope__payload__order_id=str(order.id)).order_by("id").first()
        trace_id = trace_id_of(first.envelope.get("traceparent")) if first else None
        if trace_id is None:
            return "-"
        url = trace_url(trace_id)
        return format_html('<a href="{}">{}</a>', url, trace_id) if url else trace_id

    @admin.action(
        description="Cancel the selected orders (compensated: stock released, payment refunded)",
        permissions=["operate"],
    )
    def cancel(self, request, queryset):
        for order in queryset:
            order_cancel(order_id=order.id)
        self.message_user(request, f"{queryset.count()} order(s) cancelled.", messages.SUCCESS)

    @admin.action(description="Ask the saga again for the selected pending or reserved orders", permissions=["operate"])
    def ask_again(self, request, queryset):
        waiting = list(queryset.filter(status__in=[OrderStatus.PENDING, OrderStatus.RESERVED]))
        asked = orders_ask_again(orders=waiting)
        self.message_user(request, f"{asked} saga request(s) sent again for {len(waiting)} waiting order(s).")


class ReconciliationFindingInline(ReadOnlyInline):
    model = ReconciliationFinding
    fields = ["kind", "order_id", "sku", "detail", "created_at"]
    readonly_fields = fields


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ViewOnlyAdmin):
    list_display = ["id", "status", "trigger", "started_at", "finished_at", "orders_checked", "findings_count"]
    list_filter = ["status", "trigger"]
    date_hierarchy = "started_at"
    fields = [
        "id",
        "status",
        "trigger",
        "window_start",
        "window_end",
        "orders_checked",
        "skus_checked",
        "findings_count",
        "error",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields
    inlines = [ReconciliationFindingInline]


@admin.register(ReconciliationFinding)
class ReconciliationFindingAdmin(ViewOnlyAdmin):
    list_display = ["id", "kind", "order_id", "sku", "run", "created_at"]
    list_filter = ["kind", "run__status"]
    search_fields = ["order_id", "sku", "detail"]
    date_hierarchy = "created_at"
    fields = ["run", "kind", "order_id", "sku", "detail", "created_at"]
    readonly_fields = fields
    list_select_related = ["run"]
