"""Reconciliation: the comparison of an order with its payment and reservation, the ledger, and stored runs."""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.clients import ServiceUnavailable
from orders.models import FindingKind, OrderStatus, ReconciliationFinding, ReconciliationRun
from orders.reconciliation import OrderFacts, compare_order, compare_stock, reconciliation_run

from .factories import OrderFactory, OrderLineFactory

NOW = timezone.now()
LONG_AGO = NOW - timedelta(hours=1)


def facts(status: str, *, total="25.00", lines=None, updated_at=LONG_AGO) -> OrderFacts:
    return OrderFacts(
        id=uuid.uuid4(),
        status=status,
        total=Decimal(total) if total is not None else None,
        currency="USD",
        lines=lines or {"DEMO-MUG": 2},
        updated_at=updated_at,
    )


def payment(status="succeeded", amount="25.00", currency="USD") -> dict:
    return {"id": str(uuid.uuid4()), "status": status, "amount": amount, "currency": currency}


def reservation(status="committed", lines=None) -> dict:
    lines = lines or {"DEMO-MUG": 2}
    return {"status": status, "lines": [{"sku": s, "quantity": q, "unit_price": "12.50"} for s, q in lines.items()]}


def kinds(findings) -> list[str]:
    return [finding.kind for finding in findings]


# CONFIRMED ORDERS


def test_confirmed_order_paid_in_full_with_committed_stock_is_consistent():
    assert compare_order(facts("confirmed"), payments=[payment()], reservation=reservation(), stuck_before=NOW) == []


def test_confirmed_order_without_a_payment():
    found = compare_order(facts("confirmed"), payments=[], reservation=reservation(), stuck_before=NOW)

    assert kinds(found) == [FindingKind.PAYMENT_MISSING]


@pytest.mark.parametrize("status", ["declined", "refunded"])
def test_confirmed_order_whose_payment_did_not_stay_succeeded(status):
    found = compare_order(facts("confirmed"), payments=[payment(status)], reservation=reservation(), stuck_before=NOW)

    assert kinds(found) == [FindingKind.PAYMENT_NOT_SUCCEEDED]


@pytest.mark.parametrize(("amount", "currency"), [("25.01", "USD"), ("2.50", "USD"), ("25.00", "EUR")])
def test_confirmed_order_charged_another_amount_or_currency(amount, currency):
    order = facts("confirmed")

    found = compare_order(
        order, payments=[payment(amount=amount, currency=currency)], reservation=reservation(), stuck_before=NOW
    )

    assert kinds(found) == [FindingKind.PAYMENT_AMOUNT_MISMATCH]
    assert found[0].order_id == order.id
    assert amount in found[0].detail


def test_amounts_compare_as_money_not_text():
    found = compare_order(
        facts("confirmed"), payments=[payment(amount="25.0")], reservation=reservation(), stuck_before=NOW
    )

    assert found == []


def test_two_payments_for_one_order():
    found = compare_order(
        facts("confirmed"), payments=[payment(), payment()], reservation=reservation(), stuck_before=NOW
    )

    assert FindingKind.PAYMENT_DUPLICATED in kinds(found)


@pytest.mark.parametrize("status", ["held", "released", "returned"])
def test_confirmed_order_whose_stock_is_not_committed(status):
    found = compare_order(facts("confirmed"), payments=[payment()], reservation=reservation(status), stuck_before=NOW)

    assert kinds(found) == [FindingKind.RESERVATION_NOT_COMMITTED]


def test_confirmed_order_without_a_reservation():
    found = compare_order(facts("confirmed"), payments=[payment()], reservation=None, stuck_before=NOW)

    assert kinds(found) == [FindingKind.RESERVATION_MISSING]


def test_confirmed_order_whose_reservation_has_other_lines():
    found = compare_order(
        facts("confirmed"), payments=[payment()], reservation=reservation(lines={"DEMO-MUG": 1}), stuck_before=NOW
    )

    assert kinds(found) == [FindingKind.RESERVATION_LINES_MISMATCH]


# CANCELLED ORDERS


@pytest.mark.parametrize(
    ("payments", "stock"),
    [
        ([], None),  # no reservation recorded
        ([], reservation("rejected")),
        ([payment("declined")], reservation("released")),
        ([payment("refunded")], reservation("returned")),
        ([], reservation("released")),  # expired before the payment answered
    ],
)
def test_cancelled_order_without_net_charge_or_held_stock_is_consistent(payments, stock):
    assert compare_order(facts("cancelled"), payments=payments, reservation=stock, stuck_before=NOW) == []


def test_cancelled_order_still_charged():
    found = compare_order(
        facts("cancelled"), payments=[payment("succeeded")], reservation=reservation("released"), stuck_before=NOW
    )

    assert kinds(found) == [FindingKind.CHARGE_NOT_REFUNDED]


@pytest.mark.parametrize("status", ["held", "committed"])
def test_cancelled_order_still_holding_stock(status):
    found = compare_order(
        facts("cancelled"), payments=[payment("declined")], reservation=reservation(status), stuck_before=NOW
    )

    assert kinds(found) == [FindingKind.STOCK_STILL_HELD]


# IN FLIGHT


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.RESERVED])
def test_order_in_flight_is_skipped_until_it_is_stuck(status):
    young = facts(status, total=None, updated_at=NOW - timedelta(seconds=5))
    old = facts(status, total=None, updated_at=NOW - timedelta(hours=2))
    stuck_before = NOW - timedelta(minutes=5)

    assert compare_order(young, payments=[], reservation=None, stuck_before=stuck_before) == []
    assert kinds(compare_order(old, payments=[], reservation=None, stuck_before=stuck_before)) == [
        FindingKind.ORDER_STUCK
    ]


# STOCK LEDGER


def test_stock_ledger_adds_up():
    assert compare_stock({"sku": "A", "on_hand": 10, "reserved": 3, "held_quantity": 3}) == []


def test_reserved_units_not_backed_by_held_lines():
    [found] = compare_stock({"sku": "A", "on_hand": 10, "reserved": 4, "held_quantity": 3})

    assert (found.kind, found.sku, found.order_id) == (FindingKind.STOCK_RESERVED_MISMATCH, "A", None)


def test_more_reserved_than_on_hand():
    found = compare_stock({"sku": "A", "on_hand": 2, "reserved": 3, "held_quantity": 3})

    assert kinds(found) == [FindingKind.STOCK_OVER_RESERVED]


# RUNS


class FakeClient:
    """The other services as dictionaries; records which orders and SKUs it was asked about."""

    def __init__(self, payments=None, reservations=None, ledger=None, fail=False):
        self.payments, self.reservations, self.ledger, self.fail = (
            payments or {},
            reservations or {},
            ledger or [],
            fail,
        )
        self.asked_orders: set[str] = set()
        self.asked_skus: set[str] = set()

    def payments_by_order(self, order_ids):
        if self.fail:
            raise ServiceUnavailable("payments_svc: HTTP 503")
        ids = {str(order_id) for order_id in order_ids}
        self.asked_orders |= ids
        return {key: value for key, value in self.payments.items() if key in ids}

    def reservations_by_order(self, order_ids):
        ids = {str(order_id) for order_id in order_ids}
        return {key: value for key, value in self.reservations.items() if key in ids}

    def stock_ledger(self, skus):
        self.asked_skus |= set(skus)
        return [row for row in self.ledger if row["sku"] in self.asked_skus]


def confirmed_order(*, updated_ago=timedelta(minutes=30)):
    order = OrderFactory(confirmed=True, total=Decimal("25.00"))
    OrderLineFactory(order=order, sku="DEMO-MUG", quantity=2)
    type(order).objects.filter(pk=order.pk).update(updated_at=timezone.now() - updated_ago)
    return order


@pytest.mark.django_db
def test_run_stores_and_logs_each_finding_at_error_level(caplog):
    good, bad = confirmed_order(), confirmed_order()
    client = FakeClient(
        payments={str(good.id): [payment()], str(bad.id): [payment(amount="1.00")]},
        reservations={str(good.id): reservation(), str(bad.id): reservation()},
        ledger=[{"sku": "DEMO-MUG", "on_hand": 10, "reserved": 0, "held_quantity": 0, "committed_quantity": 4}],
    )

    with caplog.at_level(logging.ERROR, logger="orders.reconciliation"):
        run = reconciliation_run(client=client, settle_seconds=60)

    assert run.status == ReconciliationRun.Status.SUCCEEDED
    assert (run.orders_checked, run.skus_checked, run.findings_count) == (2, 1, 1)
    [finding] = ReconciliationFinding.objects.filter(run=run)
    assert (finding.order_id, finding.kind) == (bad.id, FindingKind.PAYMENT_AMOUNT_MISMATCH)
    [record] = [r for r in caplog.records if r.msg == "reconciliation finding"]
    assert record.levelno == logging.ERROR
    assert (record.kind, record.order_id) == (FindingKind.PAYMENT_AMOUNT_MISMATCH, str(bad.id))


@pytest.mark.django_db
def test_run_leaves_recent_and_old_orders_alone():
    recent = confirmed_order(updated_ago=timedelta(seconds=10))
    old = confirmed_order(updated_ago=timedelta(hours=30))
    in_window = confirmed_order()
    client = FakeClient()

    run = reconciliation_run(client=client, settle_seconds=60, window_hours=24)

    assert client.asked_orders == {str(in_window.id)}
    assert str(recent.id) not in client.asked_orders and str(old.id) not in client.asked_orders
    assert run.orders_checked == 1


@pytest.mark.django_db
def test_run_that_cannot_reach_a_service_is_stored_as_failed():
    confirmed_order()

    run = reconciliation_run(client=FakeClient(fail=True), settle_seconds=60)

    assert run.status == ReconciliationRun.Status.FAILED
    assert "503" in run.error
    assert run.finished_at is not None
    assert not run.findings.exists()


@pytest.mark.django_db
def test_run_without_configuration_fails_instead_of_crashing(settings):
    settings.SERVICE_CLIENT_SECRET = ""

    run = reconciliation_run(settle_seconds=60)

    assert run.status == ReconciliationRun.Status.FAILED
    assert "SERVICE_CLIENT_SECRET" in run.error
