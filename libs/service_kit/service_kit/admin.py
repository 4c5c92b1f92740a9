"""Admin of the kit's tables: the outbox, processed messages, and dead letters with a replay action."""

from django.contrib import admin, messages

from .messaging.dead_letters import Unreplayable, dead_letter_replay
from .models import DeadLetter, OutboxMessage, ProcessedMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows an operator reads (and may delete), never writes: they change only through the code."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(ReadOnlyAdmin):
    """Rows that are records (money, status history): not even deleted by hand."""

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
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "message_id", "created_at", "sent_at", "attempts"]
    list_filter = ["type", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["message_id", "type"]


@admin.register(ProcessedMessage)
class ProcessedMessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "type", "processed_at"]
    list_filter = ["type"]
    search_fields = ["message_id"]


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "type", "failed_at", "replayed_at", "resolution"]
    list_filter = ["type", ("replayed_at", admin.EmptyFieldListFilter)]
    search_fields = ["message_id", "type", "error"]
    actions = ["replay"]

    @admin.action(description="Replay the selected messages")
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
