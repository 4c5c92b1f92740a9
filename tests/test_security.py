"""Hostile input and abuse through nginx (OWASP API Security Top 10, 2023): broken authentication,
object-level authorization, mass assignment and unrestricted resource use, on the real stack.

Wrong issuer, wrong audience and a genuinely expired signature need the platform's private key, so
the kit's own tests cover them (libs/service_kit/tests/test_authentication.py), and the JWKS fetch
limit is proved there against a real HTTP endpoint (test_jwks.py).
"""

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from .helpers import (
    assert_envelope,
    hs256,
    public_pem_from_jwk,
    sign_with_fresh_key,
    token_parts,
    unsigned,
    wait_until,
    with_signature_kept,
)
from .invariants import wait_terminal

ORDERS = "/api/orders/"
PAYMENTS = "/api/payments/"
PRODUCTS = "/api/inventory/products/"
VISA = "pm_card_visa"
DEMO_SKU = "DEMO-MUG"

USER_FIELDS = {"id", "email", "first_name", "last_name"}
PROFILE_FIELDS = USER_FIELDS | {"is_staff"}
ORDER_FIELDS = {"id", "status", "lines", "total", "currency", "cancel_reason", "created_at"}
LINE_FIELDS = {"sku", "quantity", "unit_price"}
PAYMENT_FIELDS = {"id", "order_id", "amount", "currency", "status", "created_at"}
PRODUCT_FIELDS = {"sku", "name", "description", "price", "currency", "available"}


def assert_one_401(response, code: str | None = None) -> None:
    """A 401 in the envelope: a single error about the whole request, and a Bearer challenge."""
    body = assert_envelope(response, 401, "client_error")
    assert len(body["errors"]) == 1, body
    assert body["errors"][0]["attr"] is None, body
    if code is not None:
        assert body["errors"][0]["code"] == code, body
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), response.headers


def order_body(sku: str = DEMO_SKU, quantity: int = 1) -> dict:
    return {"lines": [{"sku": sku, "quantity": quantity}], "payment_method": VISA}


def settled_order(session, order_id: str, timeout: float = 60.0) -> dict:
    """The order as `session` sees it, polled through the API until confirmed or cancelled."""

    def terminal():
        order = session.get(f"{ORDERS}{order_id}/").json()
        return order if order["status"] in {"confirmed", "cancelled"} else None

    return wait_until(terminal, timeout=timeout, interval=0.1, message=f"order {order_id} settles")


def payment_of(session, order_id: str, timeout: float = 30.0) -> dict:
    """The payment of an order in `session`'s own payment list, once it is there."""

    def find():
        results = session.get(PAYMENTS, params={"page_size": 100}).json()["results"]
        return next((payment for payment in results if payment["order_id"] == order_id), None)

    return wait_until(find, timeout=timeout, interval=0.1, message=f"payment of order {order_id}")


@pytest.fixture(scope="module")
def staff(make_session, admin_credentials):
    """A staff session for the whole module (its five-minute token is renewed when it gets old)."""
    session = make_session()

    def sign_in():
        response = session.post_patiently("/api/users/token/", json=admin_credentials)
        assert response.status_code == 200, response.text
        session.headers["Authorization"] = f"Bearer {response.json()['access']}"
        session.signed_in_at = time.monotonic()

    def renew():
        if time.monotonic() - session.signed_in_at > 120:
            sign_in()

    sign_in()
    session.renew = renew
    return session


def customer(make_session, register_user):
    registered = register_user()
    session = make_session(registered["access"])
    session.user = registered
    return session


# --- Broken authentication (API2) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def victim(register_user) -> dict:
    """A real account and its real tokens, the raw material of every forgery below."""
    return register_user()


@pytest.fixture(scope="module")
def published_keys(make_session) -> list[dict]:
    response = make_session().get("/api/users/jwks/")
    assert response.status_code == 200, response.text
    return response.json()["keys"]


def no_token(user, keys):
    return None


def empty_bearer(user, keys):
    return ""


def expired_signed_by_another_key(user, keys):
    header, claims = token_parts(user["access"])
    return sign_with_fresh_key(header, {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 3000})


def tampered_to_staff(user, keys):
    return with_signature_kept(user["access"], claims={"is_staff": True})


def tampered_to_another_user(user, keys):
    return with_signature_kept(user["access"], claims={"user_id": str(uuid.uuid4())})


def alg_none(user, keys):
    header, claims = token_parts(user["access"])
    return unsigned(header, {**claims, "is_staff": True})


def hs256_signed_with_the_public_key(user, keys):
    header, claims = token_parts(user["access"])
    jwk = next(key for key in keys if key["kid"] == header["kid"])
    return hs256(header, {**claims, "is_staff": True}, public_pem_from_jwk(jwk))


def refresh_token_as_access(user, keys):
    return user["refresh"]


def unknown_kid(user, keys):
    return with_signature_kept(user["access"], header={"kid": uuid.uuid4().hex})


def kid_of_nothing(user, keys):
    header, claims = token_parts(user["access"])
    return sign_with_fresh_key({**header, "kid": "../../../../dev/null"}, claims)


BAD_TOKENS = [
    no_token,
    empty_bearer,
    expired_signed_by_another_key,
    tampered_to_staff,
    tampered_to_another_user,
    alg_none,
    hs256_signed_with_the_public_key,
    refresh_token_as_access,
    unknown_kid,
    kid_of_nothing,
]

# One endpoint or more of each service. Bodies are invalid on purpose: a genuine token gets a 400 or
# 403 (nothing is created), so a 401 is the token's doing.
PROTECTED = {
    "users-me": ("GET", "/api/users/me/", None),
    "users-revoke": ("POST", "/api/users/token/revoke/", {"refresh": ""}),
    "inventory-create": ("POST", PRODUCTS, {"sku": "E2E-FORGED", "name": "Forged", "price": "1.00", "stock": 1}),
    "inventory-list": ("GET", PRODUCTS, None),
    "orders-list": ("GET", ORDERS, None),
    "orders-place": ("POST", ORDERS, {"lines": [], "payment_method": VISA}),
    "payments-list": ("GET", PAYMENTS, None),
}


def call(session, endpoint: str, token: str | None):
    method, path, body = PROTECTED[endpoint]
    headers = {} if token is None else {"Authorization": f"Bearer {token}".rstrip()}
    return session.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("endpoint", list(PROTECTED))
def test_genuine_token_passes_authentication_on_every_probed_endpoint(api, victim, endpoint):
    response = call(api, endpoint, victim["access"])

    assert response.status_code in {200, 400, 403}, response.text


# The catalogue is public: without a token it answers 200, so only bad tokens are probed there.
BAD_TOKEN_CASES = [
    (forge, endpoint)
    for endpoint in PROTECTED
    for forge in BAD_TOKENS
    if not (forge is no_token and endpoint == "inventory-list")
]


@pytest.mark.parametrize(("forge", "endpoint"), BAD_TOKEN_CASES)
def test_bad_token_is_one_401_envelope(api, victim, published_keys, forge, endpoint):
    token = forge(victim, published_keys)

    response = call(api, endpoint, token)

    assert_one_401(response, "not_authenticated" if token is None else None)


def test_revoked_refresh_token_is_one_401_envelope(api, register_user):
    user = register_user()
    revoked = api.post("/api/users/token/revoke/", json={"refresh": user["refresh"]}, headers=bearer(user))
    assert revoked.status_code == 205, revoked.text

    response = api.post("/api/users/token/refresh/", json={"refresh": user["refresh"]})

    assert_one_401(response, "token_not_valid")


def test_rotated_refresh_token_cannot_be_replayed(api, register_user):
    user = register_user()
    rotated = api.post("/api/users/token/refresh/", json={"refresh": user["refresh"]})
    assert rotated.status_code == 200, rotated.text

    replayed = api.post("/api/users/token/refresh/", json={"refresh": user["refresh"]})

    assert_one_401(replayed, "token_not_valid")


def test_access_token_or_tampered_refresh_token_does_not_refresh(api, victim):
    tampered = with_signature_kept(victim["refresh"], claims={"user_id": str(uuid.uuid4())})
    unknown_kid_refresh = with_signature_kept(victim["refresh"], header={"kid": uuid.uuid4().hex})

    for refresh in (victim["access"], tampered, unknown_kid_refresh):
        response = api.post("/api/users/token/refresh/", json={"refresh": refresh})
        assert_one_401(response, "token_not_valid")


def bearer(user: dict) -> dict:
    return {"Authorization": f"Bearer {user['access']}"}


# --- Object-level authorization (API1) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def owner(make_session, register_user):
    """User A with a confirmed order and its succeeded payment: `.order`, `.payment`."""
    session = customer(make_session, register_user)
    placed = session.post(ORDERS, json=order_body())
    assert placed.status_code == 201, placed.text
    session.order = settled_order(session, placed.json()["id"])
    assert session.order["status"] == "confirmed", session.order
    session.payment = payment_of(session, session.order["id"])
    assert session.payment["status"] == "succeeded", session.payment
    return session


@pytest.fixture(scope="module")
def intruder(make_session, register_user):
    """User B, an ordinary customer with an order of their own."""
    session = customer(make_session, register_user)
    placed = session.post(ORDERS, json=order_body())
    assert placed.status_code == 201, placed.text
    session.order = settled_order(session, placed.json()["id"])
    return session


def test_intruder_cannot_read_anothers_order_or_payment(owner, intruder):
    assert_envelope(intruder.get(f"{ORDERS}{owner.order['id']}/"), 404, "client_error")
    assert_envelope(intruder.get(f"{PAYMENTS}{owner.payment['id']}/"), 404, "client_error")


def test_intruders_lists_hold_only_their_own(owner, intruder):
    orders = intruder.get(ORDERS, params={"page_size": 100}).json()["results"]
    payments = intruder.get(PAYMENTS, params={"page_size": 100}).json()["results"]
    filtered = intruder.get(ORDERS, params={"status": "confirmed", "page_size": 100}).json()["results"]

    assert [order["id"] for order in orders] == [intruder.order["id"]]
    assert owner.order["id"] not in {order["id"] for order in filtered}
    assert {payment["order_id"] for payment in payments} <= {intruder.order["id"]}
    assert owner.payment["id"] not in {payment["id"] for payment in payments}


def test_intruder_cannot_cancel_anothers_order(owner, intruder):
    response = intruder.post(f"{ORDERS}{owner.order['id']}/cancel/")

    assert_envelope(response, 404, "client_error")
    assert owner.get(f"{ORDERS}{owner.order['id']}/").json()["status"] == "confirmed"
    assert owner.get(f"{PAYMENTS}{owner.payment['id']}/").json()["status"] == "succeeded"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("target", ["order", "payment", "order-cancel"])
def test_no_write_method_changes_an_order_or_payment(owner, intruder, method, target):
    path = {
        "order": f"{ORDERS}{owner.order['id']}/",
        "payment": f"{PAYMENTS}{owner.payment['id']}/",
        "order-cancel": f"{ORDERS}{owner.order['id']}/cancel/",
    }[target]
    body = {"status": "cancelled", "amount": "0.01", "total": "0.01"}

    for session in (intruder, owner):
        response = session.request(method, path, json=body)
        assert response.status_code in {404, 405}, (session is owner, response.status_code, response.text)
        assert_envelope(response, response.status_code, "client_error")

    assert owner.get(f"{ORDERS}{owner.order['id']}/").json() == owner.order
    assert owner.get(f"{PAYMENTS}{owner.payment['id']}/").json() == owner.payment


def test_staff_reads_any_order_and_payment(owner, staff):
    staff.renew()

    order = staff.get(f"{ORDERS}{owner.order['id']}/")
    payment = staff.get(f"{PAYMENTS}{owner.payment['id']}/")

    assert order.status_code == 200, order.text
    assert order.json() == owner.order
    assert payment.status_code == 200, payment.text
    assert payment.json() == owner.payment


def test_staff_cancels_a_customers_paid_order_and_it_is_refunded(make_session, register_user, staff, intruder):
    staff.renew()
    buyer = customer(make_session, register_user)
    placed = buyer.post(ORDERS, json=order_body())
    assert placed.status_code == 201, placed.text
    order = settled_order(buyer, placed.json()["id"])
    assert order["status"] == "confirmed", order
    assert_envelope(intruder.post(f"{ORDERS}{order['id']}/cancel/"), 404, "client_error")

    response = staff.post(f"{ORDERS}{order['id']}/cancel/")

    assert response.status_code == 200, response.text
    assert settled_order(buyer, order["id"])["status"] == "cancelled"
    wait_until(
        lambda: payment_of(buyer, order["id"])["status"] == "refunded", timeout=60, message="refund of the order"
    )
    assert payment_of(buyer, order["id"])["amount"] == order["total"]


# --- Mass assignment (API3) ------------------------------------------------------------------------


def test_register_ignores_privilege_fields(api, make_session):
    email = f"e2e-{uuid.uuid4().hex}@example.com"
    password = "Mass-assign-" + uuid.uuid4().hex.translate(str.maketrans("0123456789abcdef", "ghijklmnopqrstuv"))
    chosen_id = str(uuid.uuid4())
    payload = {
        "email": email,
        "password": password,
        "is_staff": True,
        "is_superuser": True,
        "is_active": True,
        "id": chosen_id,
        "user_id": chosen_id,
    }

    created = api.post_patiently("/api/users/register/", json=payload)

    assert created.status_code == 201, created.text
    assert set(created.json()) == USER_FIELDS
    assert created.json()["id"] != chosen_id
    tokens = api.post_patiently("/api/users/token/", json={"email": email, "password": password}).json()
    assert set(tokens) == {"access", "refresh"}
    assert token_parts(tokens["access"])[1]["is_staff"] is False
    session = make_session(tokens["access"])
    assert session.get("/api/users/me/").json()["is_staff"] is False
    assert_envelope(session.post(PRODUCTS, json={"sku": "E2E-NOPE", "name": "No", "price": "1.00", "stock": 1}), 403)


def test_profile_patch_changes_only_the_names(make_session, register_user):
    user = register_user()
    session = make_session(user["access"])
    payload = {
        "first_name": "Mallory",
        "is_staff": True,
        "is_superuser": True,
        "email": f"taken-over-{uuid.uuid4().hex}@example.com",
        "id": str(uuid.uuid4()),
    }

    response = session.patch("/api/users/me/", json=payload)

    assert response.status_code == 200, response.text
    assert set(response.json()) == PROFILE_FIELDS
    assert response.json() == {
        "id": user["id"],
        "email": user["email"],
        "first_name": "Mallory",
        "last_name": "",
        "is_staff": False,
    }
    signed_in = session.post_patiently("/api/users/token/", json={"email": user["email"], "password": user["password"]})
    assert token_parts(signed_in.json()["access"])[1]["is_staff"] is False


def test_order_ignores_status_prices_owner_and_id(make_session, register_user, api):
    buyer = customer(make_session, register_user)
    other = customer(make_session, register_user)
    price = api.get(f"{PRODUCTS}{DEMO_SKU}/").json()["price"]
    chosen_id = str(uuid.uuid4())
    payload = {
        "lines": [{"sku": DEMO_SKU, "quantity": 2, "unit_price": "0.01", "price": "0.01"}],
        "payment_method": VISA,
        "id": chosen_id,
        "status": "confirmed",
        "total": "0.01",
        "price": "0.01",
        "user": other.user["id"],
        "user_id": other.user["id"],
        "cancel_reason": "expired",
        "reserved": True,
        "is_staff": True,
    }

    placed = buyer.post(ORDERS, json=payload)

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert set(order) == ORDER_FIELDS
    assert all(set(line) == LINE_FIELDS for line in order["lines"])
    assert order["id"] != chosen_id
    assert (order["status"], order["total"], order["cancel_reason"]) == ("pending", None, None)
    assert order["lines"] == [{"sku": DEMO_SKU, "quantity": 2, "unit_price": None}]
    confirmed = settled_order(buyer, order["id"])
    assert confirmed["status"] == "confirmed", confirmed
    assert confirmed["lines"] == [{"sku": DEMO_SKU, "quantity": 2, "unit_price": price}]
    assert Decimal(confirmed["total"]) == 2 * Decimal(price)
    payment = payment_of(buyer, order["id"])
    assert set(payment) == PAYMENT_FIELDS
    assert payment["amount"] == confirmed["total"]
    assert_envelope(other.get(f"{ORDERS}{order['id']}/"), 404, "client_error")


def test_product_create_ignores_stock_fields_other_than_stock(staff):
    staff.renew()
    sku = f"E2E-{uuid.uuid4().hex.upper()}"
    payload = {
        "sku": sku,
        "name": "Mass assignment",
        "price": "5.00",
        "stock": 3,
        "reserved": 2,
        "available": 999,
        "on_hand": 999,
        "currency": "EUR",
        "id": 1,
    }

    response = staff.post(PRODUCTS, json=payload)

    assert response.status_code == 201, response.text
    assert response.json() == {
        "sku": sku,
        "name": "Mass assignment",
        "description": "",
        "price": "5.00",
        "currency": "USD",
        "available": 3,
    }


@pytest.mark.parametrize("field", ["on_hand", "reserved", "available", "stock", "sku", "currency"])
def test_product_patch_of_a_stock_or_identity_field_is_400(staff, make_product, field):
    staff.renew()
    product = make_product(stock=4, price="7.00")
    value = "EUR" if field == "currency" else ("E2E-OTHER" if field == "sku" else 999)

    response = staff.patch(f"{PRODUCTS}{product['sku']}/", json={"name": "Renamed", field: value})

    body = assert_envelope(response, 400, "validation_error")
    assert body["errors"][0]["attr"] == field
    after = staff.get(f"{PRODUCTS}{product['sku']}/").json()
    assert set(after) == PRODUCT_FIELDS
    assert after == product


# --- Unrestricted resource consumption (API4) ----------------------------------------------------------


def configured_order_rate() -> int:
    """Orders a user may place per minute: ORDERS_RATE as orders_svc reads it ("30/min" by default)."""
    count, _, period = os.environ.get("ORDERS_RATE", "30/min").partition("/")
    assert period.startswith("m"), "the test expects a per-minute rate"
    return int(count)


@pytest.fixture(scope="module")
def order_flood(make_session, register_user, staff):
    """One user placing orders as fast as they can until refused, while three others place 25 each.

    Over 100 orders in all, so the staff lists can show that a page holds at most 100."""
    staff.renew()
    sku = f"E2E-{uuid.uuid4().hex.upper()}"
    created = staff.post(PRODUCTS, json={"sku": sku, "name": "Flood", "price": "1.00", "stock": 500})
    assert created.status_code == 201, created.text
    flooder = customer(make_session, register_user)
    others = [customer(make_session, register_user) for _ in range(3)]

    def flood() -> list:
        responses = []
        for _ in range(configured_order_rate() + 5):
            responses.append(flooder.post(ORDERS, json=order_body(sku)))
            if responses[-1].status_code == 429:
                break
        return responses

    def steady(session) -> list:
        return [session.post(ORDERS, json=order_body(sku)) for _ in range(25)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        flooded = pool.submit(flood)
        steadies = [pool.submit(steady, session) for session in others]
        flooder.responses = flooded.result()
        steady_responses = [response for future in steadies for response in future.result()]
    order_ids = [r.json()["id"] for r in flooder.responses + steady_responses if r.status_code == 201]
    wait_terminal(order_ids, timeout=180)
    return {"flooder": flooder, "steady": steady_responses, "order_ids": order_ids}


def test_orders_per_user_and_minute_are_capped_with_a_429_envelope(order_flood):
    flooder = order_flood["flooder"]
    statuses = [response.status_code for response in flooder.responses]

    assert statuses == [201] * configured_order_rate() + [429], statuses
    body = assert_envelope(flooder.responses[-1], 429, "client_error")
    assert body["errors"][0]["code"] == "throttled"
    assert int(flooder.responses[-1].headers["Retry-After"]) > 0
    assert flooder.get(ORDERS).json()["count"] == configured_order_rate()
    assert {response.status_code for response in order_flood["steady"]} == {201}


@pytest.mark.parametrize("path", [ORDERS, PAYMENTS])
def test_staff_list_pages_hold_at_most_100(order_flood, staff, path):
    staff.renew()

    response = staff.get(path, params={"page_size": 1000})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] > 100
    assert len(body["results"]) == 100
    assert body["next"]


def test_product_list_page_holds_at_most_100(api, staff):
    staff.renew()
    missing = 101 - api.get(PRODUCTS).json()["count"]
    for _ in range(max(0, missing)):
        sku = f"E2E-{uuid.uuid4().hex.upper()}"
        created = staff.post(PRODUCTS, json={"sku": sku, "name": "Page filler", "price": "1.00", "stock": 0})
        assert created.status_code == 201, created.text

    body = api.get(PRODUCTS, params={"page_size": 1000}).json()

    assert body["count"] > 100
    assert len(body["results"]) == 100
    assert body["next"]


@pytest.mark.parametrize("path", [ORDERS, PAYMENTS, PRODUCTS])
@pytest.mark.parametrize("page_size", ["1000", "99999999999999999999"])
def test_page_size_over_the_cap_is_capped(user_api, path, page_size):
    response = user_api.get(path, params={"page_size": page_size})

    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) <= 100


@pytest.mark.parametrize("path", [ORDERS, PAYMENTS, PRODUCTS])
@pytest.mark.parametrize("page_size", ["-1", "0", "abc", "1e3", ""])
def test_page_size_that_is_no_positive_number_is_never_a_server_error(user_api, path, page_size):
    response = user_api.get(path, params={"page_size": page_size})

    if response.status_code == 200:
        assert len(response.json()["results"]) <= 100
    else:
        body = assert_envelope(response, 400, "validation_error")
        assert body["errors"][0]["attr"] == "page_size"


@pytest.mark.parametrize("quantity", [0, -1, 1001, 10**12])
def test_order_line_quantity_out_of_bounds_is_400(user_api, quantity):
    response = user_api.post(ORDERS, json=order_body(quantity=quantity))

    body = assert_envelope(response, 400, "validation_error")
    assert body["errors"][0]["attr"] == "lines.0.quantity"


def test_order_with_51_lines_is_400(user_api):
    lines = [{"sku": f"E2E-LINE-{index}", "quantity": 1} for index in range(51)]

    response = user_api.post(ORDERS, json={"lines": lines, "payment_method": VISA})

    body = assert_envelope(response, 400, "validation_error")
    assert body["errors"][0]["attr"] == "lines"
    assert user_api.get(ORDERS).json()["count"] == 0


BIG_BODY = b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'


@pytest.mark.parametrize(
    "path",
    [
        "/api/users/register/",
        "/api/users/token/",
        "/api/users/token/refresh/",
        PRODUCTS,
        ORDERS,
        # payments_svc takes no POST; nginx refuses the body before any service sees it.
        PAYMENTS,
    ],
)
def test_two_megabyte_body_is_413_envelope(user_api, path):
    response = user_api.post(path, data=BIG_BODY, headers={"Content-Type": "application/json"})

    body = assert_envelope(response, 413, "client_error")
    assert body["errors"][0]["code"] == "request_too_large"


def test_chunked_body_without_length_is_413_envelope_too(user_api):
    def chunks():
        for _ in range(32):
            yield b"x" * (64 * 1024)

    response = user_api.post(ORDERS, data=chunks(), headers={"Content-Type": "application/json"})

    assert_envelope(response, 413, "client_error")


def test_burst_of_registrations_is_throttled_with_429_envelope(make_session):
    session = make_session()

    def attempt(index):
        # A weak password: nothing is created, only the limiter is exercised.
        return session.post("/api/users/register/", json={"email": f"burst-{index}@example.com", "password": "1"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(attempt, range(40)))

    statuses = {response.status_code for response in responses}
    assert statuses <= {400, 429}, statuses
    throttled = [response for response in responses if response.status_code == 429]
    assert throttled, "no 429 in 40 concurrent registrations"
    assert assert_envelope(throttled[0], 429, "client_error")["errors"][0]["code"] == "throttled"


# HOSTILE JSON: one strict parser in every service (service_kit.parsers); a 400 envelope, nothing stored.

HOSTILE_KINDS = ["deep", "duplicate-key", "long-number", "nan"]


def hostile_body(kind: str, fields: str, duplicate: str, number: str) -> str:
    """A JSON object `{fields}` made hostile: 10,000 `[`, a key twice, a 5,001-digit number, NaN.

    `duplicate` adds a key twice (one of `fields` again, or an object holding a key twice); `number` is a
    field holding `{n}`."""
    if kind == "deep":
        return "[" * 10_000
    if kind == "duplicate-key":
        return "{" + fields + ", " + duplicate + "}"
    return "{" + fields + ", " + number.replace("{n}", "9" * 5001 if kind == "long-number" else "NaN") + "}"


def assert_parse_error(response) -> None:
    error = assert_envelope(response, 400, "client_error")["errors"][0]
    assert (error["code"], error["attr"]) == ("parse_error", None), error


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_json_to_register_is_400_and_creates_no_account(make_session, kind):
    email = f"hostile-{uuid.uuid4().hex}@example.com"
    fields = f'"email": "{email}", "password": "A-long-pass-phrase!"'
    body = hostile_body(kind, fields, '"password": "Another-long-phrase!"', '"first_name": {n}')

    response = make_session().post("/api/users/register/", data=body, headers={"Content-Type": "application/json"})

    assert_parse_error(response)
    signed_in = make_session().post("/api/users/token/", json={"email": email, "password": "A-long-pass-phrase!"})
    assert signed_in.status_code == 401


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_json_to_sign_in_is_400(make_session, register_user, kind):
    user = register_user()
    fields = f'"email": "{user["email"]}", "password": "{user["password"]}"'
    body = hostile_body(kind, fields, '"password": "x"', '"password": {n}')

    response = make_session().post("/api/users/token/", data=body, headers={"Content-Type": "application/json"})

    assert_parse_error(response)


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_json_to_order_placement_is_400_and_places_nothing(buyer, kind):
    fields = '"payment_method": "pm_card_visa", "lines": [{"sku": "DEMO-MUG", "quantity": 1, "quantity": 50}]'
    if kind != "duplicate-key":
        fields = '"payment_method": "pm_card_visa"'
    body = hostile_body(
        kind, fields, '"payment_method": "pm_card_visa"', '"lines": [{"sku": "DEMO-MUG", "quantity": {n}}]'
    )

    response = buyer.post(ORDERS, data=body, headers={"Content-Type": "application/json"})

    assert_parse_error(response)
    assert buyer.get(ORDERS).json()["count"] == 0


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_json_to_product_creation_is_400_and_creates_nothing(staff, api, kind):
    sku = f"HOSTILE-{uuid.uuid4().hex.upper()}"
    fields = f'"sku": "{sku}", "name": "Hostile", "price": "1.00", "stock": 1'
    body = hostile_body(kind, fields, '"stock": 50', '"description": {n}')

    response = staff.post(PRODUCTS, data=body, headers={"Content-Type": "application/json"})

    assert_parse_error(response)
    assert api.get(f"{PRODUCTS}{sku}/").status_code == 404
