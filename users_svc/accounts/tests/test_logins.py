"""Sign-in and registration limits of users_svc (service_kit.logins), through the API and the browsers' sign-in page."""

import statistics
import time
import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/users/register/"
TOKEN = "/api/users/token/"
SIGNIN_PAGE = "/api/users/signin/"


def _client(address: str) -> APIClient:
    """A client at its own address, as nginx reports it in X-Real-IP."""
    return APIClient(HTTP_X_REAL_IP=address)


def _sign_in(client, email: str, password: str):
    return client.post(TOKEN, {"email": email, "password": password}, format="json")


def _assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["type"] == "client_error"
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [("throttled", None)]


@pytest.fixture
def limits(settings):
    # A window long enough for the hashing of a test's few sign-ins on a busy machine, short enough to wait out.
    settings.SERVICE_KIT = {
        **settings.SERVICE_KIT,
        "LOGIN_ACCOUNT_LIMIT": 3,
        "LOGIN_ADDRESS_LIMIT": 6,
        "LOGIN_WINDOW": 8,
        "REGISTER_ADDRESS_LIMIT": 2,
        "REGISTER_WINDOW": 8,
    }


def test_wrong_passwords_past_the_account_limit_answer_429_with_retry_after(limits):
    user = UserFactory()
    client = _client("10.0.0.1")
    for _ in range(3):
        assert _sign_in(client, user.email, "wrong-password-1").status_code == 401

    _assert_throttled(_sign_in(client, user.email, "wrong-password-1"))
    # The right password too, from any address: the account waits out its window.
    _assert_throttled(_sign_in(_client("10.0.0.2"), user.email, PASSWORD))


def test_account_limit_resets_after_the_window(limits):
    user = UserFactory()
    client = _client("10.0.0.3")
    for _ in range(3):
        _sign_in(client, user.email, "wrong-password-1")
    _assert_throttled(_sign_in(client, user.email, PASSWORD))

    time.sleep(8.2)

    assert _sign_in(client, user.email, PASSWORD).status_code == 200


def test_another_accounts_correct_password_from_the_same_address_still_works(limits):
    victim, other = UserFactory(), UserFactory()
    client = _client("10.0.0.4")
    for _ in range(4):
        _sign_in(client, victim.email, "wrong-password-1")

    assert _sign_in(client, other.email, PASSWORD).status_code == 200


def test_failures_past_the_address_limit_answer_429_for_every_account(limits):
    client = _client("10.0.0.5")
    for n in range(6):
        assert _sign_in(client, f"nobody{n}@example.com", "wrong-password-1").status_code == 401
    user = UserFactory()

    _assert_throttled(_sign_in(client, user.email, PASSWORD))
    assert _sign_in(_client("10.0.0.6"), user.email, PASSWORD).status_code == 200


def test_successful_sign_in_clears_the_account_count_but_not_the_address_failures(limits):
    user = UserFactory()
    client = _client("10.0.0.7")
    for _ in range(2):
        _sign_in(client, user.email, "wrong-password-1")
    assert _sign_in(client, user.email, PASSWORD).status_code == 200

    # The account starts again from zero: three more failures before the limit.
    for _ in range(3):
        assert _sign_in(client, user.email, "wrong-password-1").status_code == 401
    # The address kept its two earlier failures: 2 + 3 + 1 reaches its limit of 6.
    assert _sign_in(client, "nobody@example.com", "wrong-password-1").status_code == 401
    _assert_throttled(_sign_in(client, "nobody-else@example.com", "wrong-password-1"))


def test_account_count_ignores_the_case_of_the_email(limits):
    user = UserFactory()
    client = _client("10.0.0.8")
    for email in (user.email, user.email.upper(), f" {user.email.title()}"):
        _sign_in(client, email, "wrong-password-1")

    _assert_throttled(_sign_in(_client("10.0.0.9"), user.email, PASSWORD))


def test_unknown_email_answers_like_a_wrong_password_in_body_and_time():
    user = UserFactory()
    timings = {"known": [], "unknown": []}
    bodies = {}
    for n in range(5):
        for kind, email in (("known", user.email), ("unknown", f"ghost-{uuid.uuid4().hex}@example.com")):
            client = _client(f"10.1.{n}.{len(timings[kind])}")
            started = time.perf_counter()
            response = _sign_in(client, email, "wrong-password-1")
            timings[kind].append(time.perf_counter() - started)
            bodies[kind] = (response.status_code, response.json())

    assert bodies["known"] == bodies["unknown"]
    assert bodies["known"][0] == 401
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    # Both hash the password once (hundreds of ms); what is left is a query's worth of difference.
    assert abs(known - unknown) < max(0.25 * known, 0.05), timings


def test_registration_of_a_taken_email_takes_as_long_as_a_new_one(settings):
    taken = UserFactory()
    timings = {"new": [], "taken": []}
    for n in range(5):
        for kind in ("new", "taken"):
            email = taken.email if kind == "taken" else f"new-{uuid.uuid4().hex}@example.com"
            started = time.perf_counter()
            response = _client(f"10.2.{n}.{len(timings[kind])}").post(
                REGISTER, {"email": email, "password": "a-long-unusual-pass-42"}, format="json"
            )
            timings[kind].append(time.perf_counter() - started)
            assert response.status_code == (201 if kind == "new" else 400), response.content

    new, taken_time = statistics.median(timings["new"]), statistics.median(timings["taken"])
    assert abs(new - taken_time) < max(0.25 * new, 0.05), timings


def test_registrations_past_the_address_limit_answer_429_and_store_nothing(limits):
    def register(client, email):
        return client.post(REGISTER, {"email": email, "password": "a-long-unusual-pass-42"}, format="json")

    client = _client("10.0.0.10")
    for n in range(2):
        assert register(client, f"r{n}@example.com").status_code == 201

    _assert_throttled(register(client, "r2@example.com"))
    assert not User.objects.filter(email="r2@example.com").exists()
    assert register(_client("10.0.0.11"), "r3@example.com").status_code == 201


def test_sign_in_page_past_the_account_limit_answers_a_429_page(limits):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_X_REAL_IP="10.0.0.12")
    for _ in range(3):
        response = client.post(SIGNIN_PAGE, {"email": staff.email, "password": "wrong-password-1"})
        assert response.status_code == 401  # the form again, with its error

    response = client.post(SIGNIN_PAGE, {"email": staff.email, "password": PASSWORD})

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) >= 1
    assert b"Too many failed sign-ins" in response.content
    time.sleep(8.2)
    assert client.post(SIGNIN_PAGE, {"email": staff.email, "password": PASSWORD}).status_code == 302


def test_sign_in_page_and_api_share_the_accounts_count(limits):
    user = UserFactory()
    browser = Client(HTTP_X_REAL_IP="10.0.0.13")
    for _ in range(3):
        browser.post(SIGNIN_PAGE, {"email": user.email, "password": "wrong-password-1"})

    _assert_throttled(_sign_in(_client("10.0.0.14"), user.email, PASSWORD))
