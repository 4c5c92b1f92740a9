"""Admin of the kit's tables: the outbox, processed messages, and dead letters with a replay action.

They keep the messaging's guarantees, so no admin writes or deletes them: deleting an unsent outbox row
would lose a message, a processed-message row would let a duplicate take effect twice, a dead letter
would be a message nobody can replay.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.utils.html import format_html

from .messaging.dead_letters import Unreplayable, dead_letter_replay
from .models import DeadLetter, OutboxMessage, ProcessedMessage


def admin_link(service: str, model: str, pk, text: str | None = None) -> str:
    """A link to a row in another service's admin (all four share the gateway's host): `model` is
    "<app>/<model>", e.g. admin_link("orders", "orders/order", order_id)."""
    if pk is None:
        return "-"
    return format_html('<a href="/admin/{}/{}/{}/change/">{}</a>', service, model, pk, text or pk)


def admin_search_link(service: str, model: str, query, text: str) -> str:
    """A link to another service's admin list of `model` searched for `query` (say, an order's payment)."""
    return format_html('<a href="/admin/{}/{}/?q={}">{}</a>', service, model, query, text)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows an operator reads, never adds, changes or deletes: they change only through the code.

    Its actions that act through that code (cancel an order, replay a dead letter) say
    `permissions=["operate"]`: they are offered to whoever may change such rows by Django's permissions
    (a superuser, a service's operator: service_kit.roles), not to someone who may only view them."""

    def has_operate_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ViewOnlyAdmin):
    list_display = ["id", "type", "message_id", "created_at", "sent_at", "attempts"]
    list_filter = ["type", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["message_id", "type"]


@admin.register(ProcessedMessage)
class ProcessedMessageAdmin(ViewOnlyAdmin):
    list_display = ["message_id", "type", "processed_at"]
    list_filter = ["type"]
    search_fields = ["message_id"]


@admin.register(DeadLetter)
class DeadLetterAdmin(ViewOnlyAdmin):
    list_display = ["message_id", "type", "failed_at", "replayed_at", "resolution"]
    list_filter = ["type", ("replayed_at", admin.EmptyFieldListFilter)]
    search_fields = ["message_id", "type", "error"]
    actions = ["replay"]

    @admin.action(description="Replay the selected messages", permissions=["operate"])
    def replay(self, request, queryset):
        replayed = 0
        for dead_letter in queryset:
            try:
                dead_letter_replay(dead_letter=dead_letter)
            except Unreplayable as exc:  # a malformed message was dead-lettered as it came: now closed
                self.message_user(request, f"Dead letter {dead_letter.pk} closed, {exc}", messages.ERROR)
            else:
                replayed += 1
        if replayed:
            self.message_user(request, f"{replayed} message(s) sent again.", messages.SUCCESS)
