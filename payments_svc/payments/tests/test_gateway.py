"""The simulated card gateway answers like Stripe's test tokens, and the setting picks the adapter."""

from decimal import Decimal

import pytest

from payments.gateway import ChargeResult, SimulatedCardGateway, get_gateway


def charge(payment_method: str, idempotency_key: str = "order-1") -> ChargeResult:
    return SimulatedCardGateway().charge(
        amount=Decimal("10.00"), currency="USD", payment_method=payment_method, idempotency_key=idempotency_key
    )


def test_visa_test_card_succeeds_with_a_reference():
    result = charge("pm_card_visa")

    assert result.succeeded
    assert result.reference.startswith("sim_ch_")
    assert result.decline_code == ""


def test_declined_test_card_is_declined_as_card_declined():
    result = charge("pm_card_chargeDeclined")

    assert not result.succeeded
    assert result.decline_code == "card_declined"


@pytest.mark.parametrize("payment_method", ["pm_card_unknown", "", "4242424242424242"])
def test_any_other_payment_method_is_declined_as_invalid(payment_method):
    result = charge(payment_method)

    assert not result.succeeded
    assert result.decline_code == "invalid_payment_method"


def test_retried_charge_gets_the_same_reference_and_another_key_a_new_one():
    assert charge("pm_card_visa").reference == charge("pm_card_visa").reference
    assert charge("pm_card_visa", "order-2").reference != charge("pm_card_visa").reference


def test_simulated_gateway_is_the_default():
    assert isinstance(get_gateway(), SimulatedCardGateway)


class DecliningGateway:
    """A stand-in for another provider, to show the setting is honoured."""

    def charge(self, **kwargs) -> ChargeResult:
        return ChargeResult(succeeded=False, reference="other", decline_code="do_not_honor")

    def refund(self, **kwargs) -> None:
        return None


def test_payments_gateway_setting_selects_the_adapter(settings):
    settings.PAYMENTS_GATEWAY = f"{__name__}.DecliningGateway"

    assert isinstance(get_gateway(), DecliningGateway)
