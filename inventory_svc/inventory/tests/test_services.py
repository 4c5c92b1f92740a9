"""Catalogue writes, and the reservation steps of the order saga against real PostgreSQL."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from service_kit.models import OutboxMessage

from inventory import services
from inventory.models import Product, Reservation

from .factories import ProductFactory, ReservationLineFactory


def stock_of(sku: str) -> tuple[int, int]:
    product = Product.objects.get(sku=sku)
    return product.on_hand, product.reserved


# CATALOGUE


@pytest.mark.django_db
def test_product_create_sets_stock_on_hand():
    product = services.product_create(sku="MUG-1", name="Mug", price=Decimal("12.50"), stock=5)
    product.refresh_from_db()
    assert (product.on_hand, product.reserved, product.currency, product.description) == (5, 0, "USD", "")


@pytest.mark.django_db
def test_product_create_refuses_a_taken_sku():
    ProductFactory(sku="MUG-1")
    with pytest.raises(ValidationError) as error:
        services.product_create(sku="MUG-1", name="Mug", price=Decimal("1.00"), stock=1)
    assert "sku" in error.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price": Decimal("0.00")}, "price"),
        ({"stock": -1}, "on_hand"),
        ({"stock": 2_000_000_000}, "stock"),
        ({"sku": "mug"}, "sku"),
        ({"name": ""}, "name"),
    ],
)
def test_product_create_validates_before_writing(fields, field):
    data = {"sku": "MUG-1", "name": "Mug", "price": Decimal("1.00"), "stock": 1, **fields}
    with pytest.raises(ValidationError) as error:
        services.product_create(**data)
    assert field in error.value.message_dict
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_product_update_changes_catalogue_fields_and_keeps_stock():
    product = ProductFactory(on_hand=9, reserved=4)
    services.product_update(sku=product.sku, name="Renamed", price=Decimal("3.30"))
    product.refresh_from_db()
    assert (product.name, product.price, product.on_hand, product.reserved) == ("Renamed", Decimal("3.30"), 9, 4)


@pytest.mark.django_db
def test_product_update_refuses_a_zero_price():
    product = ProductFactory(price=Decimal("5.00"))
    with pytest.raises(ValidationError):
        services.product_update(sku=product.sku, price=Decimal("0.00"))
    product.refresh_from_db()
    assert product.price == Decimal("5.00")


@pytest.mark.django_db
def test_product_stock_add_adds_to_on_hand():
    product = ProductFactory(on_hand=3, reserved=2)
    restocked = services.product_stock_add(sku=product.sku, quantity=10)
    assert (restocked.on_hand, restocked.reserved) == (13, 2)


@pytest.mark.django_db
def test_product_stock_add_refuses_to_pass_the_stock_ceiling():
    product = ProductFactory(on_hand=services.MAX_ON_HAND)
    with pytest.raises(ValidationError):
        services.product_stock_add(sku=product.sku, quantity=1)
    assert stock_of(product.sku) == (services.MAX_ON_HAND, 0)


@pytest.mark.django_db
def test_product_stock_add_of_unknown_product_raises_not_found():
    with pytest.raises(services.ProductNotFound):
        services.product_stock_add(sku="NOPE", quantity=1)


@pytest.mark.django_db
def test_product_delete_removes_an_unreserved_product():
    product = ProductFactory()
    services.product_delete(sku=product.sku)
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_product_delete_refuses_a_product_with_reservations():
    line = ReservationLineFactory()
    with pytest.raises(services.ProductInUseError):
        services.product_delete(sku=line.product_id)
    assert Product.objects.filter(sku=line.product_id).exists()


# RESERVE


@pytest.mark.django_db
def test_reserve_holds_every_line_and_prices_it():
    ProductFactory(sku="A", price=Decimal("2.50"), on_hand=5)
    ProductFactory(sku="B", price=Decimal("10.00"), on_hand=1)
    order_id = uuid.uuid4()

    result = services.stock_reserve(order_id=order_id, lines=[("B", 1), ("A", 3)])

    assert result.reserved and result.reason is None
    assert result.lines == (
        services.ReservedLine(sku="A", quantity=3, unit_price=Decimal("2.50")),
        services.ReservedLine(sku="B", quantity=1, unit_price=Decimal("10.00")),
    )
    assert (result.total, result.currency) == (Decimal("17.50"), "USD")
    assert stock_of("A") == (5, 3)
    assert stock_of("B") == (1, 1)
    assert Reservation.objects.get(order_id=order_id).status == "held"


@pytest.mark.django_db
def test_reserve_sums_duplicate_skus():
    ProductFactory(sku="A", on_hand=5)
    result = services.stock_reserve(order_id=uuid.uuid4(), lines=[("A", 1), ("A", 2)])
    assert [(line.sku, line.quantity) for line in result.lines] == [("A", 3)]
    assert stock_of("A") == (5, 3)


@pytest.mark.django_db
def test_reserve_rejects_the_whole_order_when_one_line_is_out_of_stock():
    ProductFactory(sku="A", on_hand=5)
    ProductFactory(sku="B", on_hand=2, reserved=1)

    result = services.stock_reserve(order_id=uuid.uuid4(), lines=[("A", 1), ("B", 2)])

    assert (result.reserved, result.reason, result.skus, result.lines, result.total) == (
        False,
        "out_of_stock",
        ("B",),
        (),
        None,
    )
    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (2, 1)


@pytest.mark.django_db
def test_reserve_rejects_the_whole_order_when_one_product_is_unknown():
    ProductFactory(sku="A", on_hand=5)
    result = services.stock_reserve(order_id=uuid.uuid4(), lines=[("A", 1), ("GHOST", 1), ("ZOMBIE", 1)])
    assert (result.reserved, result.reason, result.skus) == (False, "unknown_product", ("GHOST", "ZOMBIE"))
    assert stock_of("A") == (5, 0)


@pytest.mark.django_db
def test_duplicate_lines_are_summed_before_checking_stock():
    ProductFactory(sku="A", on_hand=2)
    result = services.stock_reserve(order_id=uuid.uuid4(), lines=[("A", 2), ("A", 1)])
    assert result.reason == "out_of_stock"
    assert stock_of("A") == (2, 0)


@pytest.mark.django_db
def test_second_reserve_for_the_same_order_returns_the_first_answer_and_changes_nothing():
    ProductFactory(sku="A", price=Decimal("4.00"), on_hand=5)
    order_id = uuid.uuid4()
    first = services.stock_reserve(order_id=order_id, lines=[("A", 2)])
    Product.objects.filter(sku="A").update(price=Decimal("99.00"))

    second = services.stock_reserve(order_id=str(order_id), lines=[("A", 2)])

    assert second == first
    assert stock_of("A") == (5, 2)
    assert Reservation.objects.count() == 1


@pytest.mark.django_db
def test_second_reserve_of_a_rejected_order_stays_rejected_after_a_restock():
    ProductFactory(sku="A", on_hand=0)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[("A", 1)])
    services.product_stock_add(sku="A", quantity=10)

    again = services.stock_reserve(order_id=order_id, lines=[("A", 1)])

    assert (again.reserved, again.reason, again.skus) == (False, "out_of_stock", ("A",))
    assert stock_of("A") == (10, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("lines", [[], [("A", 0)], [("A", -1)], [("A", 1.5)], [("A", True)]])
def test_reserve_refuses_malformed_lines(lines):
    ProductFactory(sku="A")
    with pytest.raises(ValidationError):
        services.stock_reserve(order_id=uuid.uuid4(), lines=lines)
    assert not Reservation.objects.exists()


# COMMIT AND RELEASE


@pytest.fixture
def held_order():
    ProductFactory(sku="A", on_hand=5)
    ProductFactory(sku="B", on_hand=3)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[("A", 2), ("B", 1)])
    return order_id


@pytest.mark.django_db
def test_commit_turns_the_reservation_into_a_sale(held_order):
    reservation = services.stock_commit(order_id=held_order)
    assert reservation.status == "committed"
    assert stock_of("A") == (3, 0)
    assert stock_of("B") == (2, 0)


@pytest.mark.django_db
def test_second_commit_changes_nothing(held_order):
    services.stock_commit(order_id=held_order)
    services.stock_commit(order_id=held_order)
    assert stock_of("A") == (3, 0)


@pytest.mark.django_db
def test_release_returns_held_stock(held_order):
    reservation = services.stock_release(order_id=held_order)
    assert reservation.status == "released"
    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (3, 0)


@pytest.mark.django_db
def test_second_release_changes_nothing(held_order):
    services.stock_release(order_id=held_order)
    services.stock_release(order_id=held_order)
    assert stock_of("A") == (5, 0)


@pytest.mark.django_db
def test_release_after_commit_leaves_the_sale_alone(held_order):
    services.stock_commit(order_id=held_order)
    reservation = services.stock_release(order_id=held_order)
    assert reservation.status == "committed"
    assert stock_of("A") == (3, 0)


@pytest.mark.django_db
def test_commit_after_release_sells_nothing(held_order):
    services.stock_release(order_id=held_order)
    reservation = services.stock_commit(order_id=held_order)
    assert reservation.status == "released"
    assert stock_of("A") == (5, 0)


@pytest.mark.django_db
def test_release_and_commit_of_unknown_order_do_nothing():
    product = ProductFactory(on_hand=4, reserved=1)
    assert services.stock_release(order_id=uuid.uuid4()) is None
    assert services.stock_commit(order_id=uuid.uuid4()) is None
    assert stock_of(product.sku) == (4, 1)


@pytest.mark.django_db
def test_release_of_rejected_order_does_nothing():
    ProductFactory(sku="A", on_hand=1, reserved=1)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[("A", 1)])
    assert services.stock_release(order_id=order_id).status == "rejected"
    assert stock_of("A") == (1, 1)


# RESTOCK OF A SOLD ORDER


@pytest.mark.django_db
def test_stock_return_puts_sold_units_back_on_hand(held_order):
    services.stock_commit(order_id=held_order)

    reservation = services.stock_return(order_id=held_order)

    assert reservation.status == "returned"
    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (3, 0)


@pytest.mark.django_db
def test_second_restock_of_an_order_changes_nothing(held_order):
    services.stock_commit(order_id=held_order)
    services.stock_return(order_id=held_order)

    again = services.stock_return(order_id=str(held_order))

    assert again.status == "returned"
    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (3, 0)


@pytest.mark.django_db
def test_stock_return_keeps_sales_and_holds_of_other_orders(held_order):
    other = uuid.uuid4()
    services.stock_reserve(order_id=other, lines=[("A", 1)])
    services.stock_commit(order_id=held_order)

    services.stock_return(order_id=held_order)

    assert stock_of("A") == (5, 1)
    assert Reservation.objects.get(order_id=other).status == "held"


@pytest.mark.django_db
def test_restock_arriving_before_the_commit_releases_the_held_stock(held_order):
    assert services.stock_return(order_id=held_order).status == "released"
    assert stock_of("A") == (5, 0)
    assert services.stock_commit(order_id=held_order).status == "released"
    assert stock_of("A") == (5, 0)


@pytest.mark.django_db
def test_stock_return_of_a_released_reservation_adds_nothing(held_order):
    services.stock_release(order_id=held_order)
    assert services.stock_return(order_id=held_order).status == "released"
    assert stock_of("A") == (5, 0)


@pytest.mark.django_db
def test_stock_return_of_a_rejected_or_unknown_order_does_nothing():
    ProductFactory(sku="A", on_hand=1, reserved=1)
    rejected = uuid.uuid4()
    services.stock_reserve(order_id=rejected, lines=[("A", 1)])

    assert services.stock_return(order_id=rejected).status == "rejected"
    assert services.stock_return(order_id=uuid.uuid4()) is None
    assert stock_of("A") == (1, 1)


@pytest.mark.django_db
def test_commit_after_restock_sells_nothing_again(held_order):
    services.stock_commit(order_id=held_order)
    services.stock_return(order_id=held_order)
    assert services.stock_commit(order_id=held_order).status == "returned"
    assert stock_of("A") == (5, 0)


# RESERVE AND REPLY


@pytest.mark.django_db
def test_reserve_and_reply_queues_the_answer_with_the_correlation_id():
    ProductFactory(sku="A", price=Decimal("1.25"), on_hand=5)
    order_id = uuid.uuid4()

    result = services.stock_reserve_and_reply(order_id=order_id, lines=[("A", 4)], correlation_id="req-1")

    assert result.reserved
    row = OutboxMessage.objects.get()
    assert row.type == "orders.stock_reserved"
    assert row.envelope["correlation_id"] == "req-1"
    assert row.envelope["payload"] == {
        "order_id": str(order_id),
        "lines": [{"sku": "A", "quantity": 4, "unit_price": "1.25"}],
        "total": "5.00",
        "currency": "USD",
    }


@pytest.mark.django_db
def test_reserve_and_reply_with_bad_lines_queues_nothing():
    ProductFactory(sku="A")
    with pytest.raises(ValidationError):
        services.stock_reserve_and_reply(order_id=uuid.uuid4(), lines=[("A", 0)])
    assert not OutboxMessage.objects.exists()
    assert not Reservation.objects.exists()


# CONCURRENCY: each thread has its own database connection and transaction.


def run_in_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_oversell():
    ProductFactory(sku="HOT", on_hand=5)

    results = run_in_threads(10, lambda i: services.stock_reserve(order_id=uuid.uuid4(), lines=[("HOT", 1)]))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.reserved for r in results) == 5
    assert {r.reason for r in results if not r.reserved} == {"out_of_stock"}
    assert stock_of("HOT") == (5, 5)
    assert Reservation.objects.filter(status="held").count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_with_lines_in_opposite_orders_do_not_deadlock():
    ProductFactory(sku="A", on_hand=100)
    ProductFactory(sku="B", on_hand=100)

    def reserve(index: int):
        lines = [("A", 1), ("B", 1)] if index % 2 else [("B", 1), ("A", 1)]
        return services.stock_reserve(order_id=uuid.uuid4(), lines=lines)

    results = run_in_threads(10, reserve)

    assert all(not isinstance(r, Exception) and r.reserved for r in results)
    assert stock_of("A") == (100, 10)
    assert stock_of("B") == (100, 10)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reserves_of_one_order_hold_stock_once():
    ProductFactory(sku="A", on_hand=50)
    order_id = uuid.uuid4()

    results = run_in_threads(8, lambda i: services.stock_reserve(order_id=order_id, lines=[("A", 2)]))

    assert not [r for r in results if isinstance(r, Exception)]
    assert len(set(results)) == 1 and results[0].reserved
    assert stock_of("A") == (50, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_commits_releases_and_restocks_keep_counts_exact():
    ProductFactory(sku="A", on_hand=20)
    orders = [uuid.uuid4() for _ in range(10)]
    for order_id in orders:
        services.stock_reserve(order_id=order_id, lines=[("A", 1)])

    def settle(index: int):
        if index < 5:
            return services.stock_commit(order_id=orders[index])
        if index < 10:
            return services.stock_release(order_id=orders[index])
        return services.product_stock_add(sku="A", quantity=3)

    results = run_in_threads(12, settle)

    assert not [r for r in results if isinstance(r, Exception)]
    assert stock_of("A") == (20 - 5 + 2 * 3, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_restocks_of_one_order_return_its_units_once():
    ProductFactory(sku="A", on_hand=10)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[("A", 4)])
    services.stock_commit(order_id=order_id)

    results = run_in_threads(6, lambda i: services.stock_return(order_id=order_id))

    assert not [r for r in results if isinstance(r, Exception)]
    assert stock_of("A") == (10, 0)
    assert Reservation.objects.get(order_id=order_id).status == "returned"


@pytest.mark.django_db
def test_product_stock_add_past_the_ceiling_names_its_rule():
    product = ProductFactory(on_hand=services.MAX_ON_HAND)

    with pytest.raises(ValidationError) as raised:
        services.product_stock_add(sku=product.sku, quantity=1)

    assert raised.value.error_dict["quantity"][0].code == "stock_ceiling"


@pytest.mark.django_db
def test_product_create_of_a_taken_sku_names_its_rule():
    ProductFactory(sku="MUG")

    with pytest.raises(ValidationError) as raised:
        services.product_create(sku="MUG", name="Mug", price=Decimal("1.00"), stock=1)

    assert raised.value.error_dict["sku"][0].code == "unique"
