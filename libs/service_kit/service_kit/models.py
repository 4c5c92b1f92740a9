"""The kit's tables, in each service's own database: outbox, processed messages, dead letters."""

import uuid

from django.db import models


class OutboxMessage(models.Model):
    """A message written in the same transaction as the change that causes it; the relay sends it."""

    message_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    type = models.CharField(max_length=100)
    envelope = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The consumer's receipt: until it comes, the relay sends the message again (see outbox_redeliver).
    expects_receipt = models.BooleanField(default=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The message whose handling wrote this one (its answer, or its next step): a duplicate of that
    # message is answered by sending these again, so asking again always gets the first answer.
    caused_by = models.UUIDField(null=True, blank=True, db_index=True)
    # The consumer's receipt said it dead-lettered the message: an operator's, not a resend's, to mend.
    dead_lettered = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent_idx"),
            models.Index(
                fields=["sent_at"],
                condition=models.Q(expects_receipt=True, acknowledged_at__isnull=True, sent_at__isnull=False),
                name="outbox_unacknowledged_idx",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.message_id}"


class ProcessedMessage(models.Model):
    """A consumed message id, recorded in the same transaction as its effect, with the envelope it came in
    (who sent it, when, about what), so an operator's page can tell what a service received."""

    message_id = models.UUIDField(primary_key=True)
    type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Null for messages recorded before envelopes were kept.
    envelope = models.JSONField(null=True, blank=True)

    def __str__(self):
        return f"{self.type} {self.message_id}"


class DeadLetter(models.Model):
    """A message whose handler kept failing after its retries; an operator can replay it."""

    message_id = models.UUIDField(db_index=True)
    type = models.CharField(max_length=100)
    envelope = models.JSONField()
    error = models.TextField()
    failed_at = models.DateTimeField(auto_now_add=True)
    # When an operator closed it, and how: "replayed", or why it could not be.
    replayed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self):
        return f"{self.type} {self.message_id}"
