"""payments_svc's figures: charges by outcome, and refunds."""

from django.db import transaction
from prometheus_client import Counter

PAYMENTS = Counter("shop_payments", "Payments made, by outcome: succeeded, declined, refunded.", ["outcome"])


def payment_counted(*, outcome: str) -> None:
    """Count the payment's outcome once its transaction commits."""
    transaction.on_commit(lambda: PAYMENTS.labels(outcome).inc())
