"""Card gateway adapter: the interface payments need, and the simulated gateway used by default.

The class is chosen by the PAYMENTS_GATEWAY setting (a dotted path), so a real provider can
replace the simulated one without touching the services.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_GATEWAY = "payments.gateway.SimulatedCardGateway"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str
    decline_code: str = ""


class Gateway(Protocol):
    def charge(self, *, amount: Decimal, currency: str, payment_method: str, idempotency_key: str) -> ChargeResult:
        """Charge once per idempotency key; a retry with the same key answers the first result."""

    def refund(self, *, reference: str, amount: Decimal) -> None:
        """Refund a succeeded charge in full."""


class SimulatedCardGateway:
    """Stripe's test tokens: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined."""

    SUCCEEDING = "pm_card_visa"
    DECLINED = "pm_card_chargeDeclined"
    _REFERENCES = uuid.UUID("6f1c1d1e-57a8-4c47-9a57-1f0d7d1c2b10")

    def charge(self, *, amount: Decimal, currency: str, payment_method: str, idempotency_key: str) -> ChargeResult:
        # Derived from the key, so a retried charge gets the same reference as a real gateway would give.
        reference = f"sim_ch_{uuid.uuid5(self._REFERENCES, idempotency_key).hex}"
        if payment_method == self.SUCCEEDING:
            return ChargeResult(succeeded=True, reference=reference)
        if payment_method == self.DECLINED:
            return ChargeResult(succeeded=False, reference=reference, decline_code="card_declined")
        return ChargeResult(succeeded=False, reference=reference, decline_code="invalid_payment_method")

    def refund(self, *, reference: str, amount: Decimal) -> None:
        return None


def get_gateway() -> Gateway:
    """The gateway named by settings.PAYMENTS_GATEWAY."""
    return import_string(getattr(settings, "PAYMENTS_GATEWAY", DEFAULT_GATEWAY))()
