"""Sign-in limits through nginx with the platform's real limits (5 failures per account, 20 per
address, in 15 minutes): each test signs in from fresh loopback addresses with fresh accounts.

The reset after the window is proved by the services' own tests with a short window
(users_svc/accounts/tests/test_logins.py): the real one is 15 minutes.
"""

import statistics
import time
import uuid

from .helpers import GatewaySession, assert_envelope, sign_in_session

TOKEN = "/api/users/token/"
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20


def _sign_in(session: GatewaySession, email: str, password: str):
    # Paced under nginx's 5 a second per address, so every answer here is the service's own.
    time.sleep(0.25)
    return session.post(TOKEN, json={"email": email, "password": password})


def _assert_throttled(response) -> None:
    body = assert_envelope(response, 429, "client_error")
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [("throttled", None)]
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60


def test_wrong_passwords_past_the_account_limit_answer_429_with_retry_after(make_session, register_user):
    user = register_user()
    attacker = make_session()
    for _ in range(ACCOUNT_LIMIT):
        assert _sign_in(attacker, user["email"], "not-the-password-1").status_code == 401

    _assert_throttled(_sign_in(attacker, user["email"], "not-the-password-1"))
    # The account waits out its window from any address, even with its right password.
    _assert_throttled(_sign_in(make_session(), user["email"], user["password"]))


def test_another_accounts_correct_password_from_the_same_address_still_works(make_session, register_user):
    victim, other = register_user(), register_user()
    shared = make_session()
    for _ in range(ACCOUNT_LIMIT + 1):
        _sign_in(shared, victim["email"], "not-the-password-1")

    response = _sign_in(shared, other["email"], other["password"])

    assert response.status_code == 200, response.text


def test_failures_past_the_address_limit_answer_429_for_any_account(make_session, register_user):
    user = register_user()
    sprayer = make_session()
    for _ in range(ADDRESS_LIMIT):
        response = _sign_in(sprayer, f"ghost-{uuid.uuid4().hex}@example.com", "not-the-password-1")
        assert response.status_code == 401, response.text

    _assert_throttled(_sign_in(sprayer, user["email"], user["password"]))
    assert _sign_in(make_session(), user["email"], user["password"]).status_code == 200


def test_unknown_email_answers_like_a_wrong_password_in_body_and_time(make_session, register_user):
    user = register_user()
    answers, timings = {}, {"known": [], "unknown": []}
    for _ in range(4):
        for kind in ("known", "unknown"):
            email = user["email"] if kind == "known" else f"ghost-{uuid.uuid4().hex}@example.com"
            session = make_session()
            started = time.perf_counter()
            response = session.post(TOKEN, json={"email": email, "password": "not-the-password-1"})
            timings[kind].append(time.perf_counter() - started)
            answers[kind] = (response.status_code, response.json())

    assert answers["known"] == answers["unknown"]
    assert answers["known"][0] == 401
    known, unknown = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    # Both cost one password hash (hundreds of ms); a bounded tolerance for a shared machine.
    assert abs(known - unknown) < max(0.3 * known, 0.1), timings


def test_registration_of_a_taken_email_takes_as_long_as_a_new_one(make_session, register_user):
    taken = register_user()
    timings = {"new": [], "taken": []}
    for _ in range(4):
        for kind in ("new", "taken"):
            email = taken["email"] if kind == "taken" else f"e2e-{uuid.uuid4().hex}@example.com"
            session = make_session()
            started = time.perf_counter()
            response = session.post("/api/users/register/", json={"email": email, "password": "A-long-pass-phrase!"})
            timings[kind].append(time.perf_counter() - started)
            assert response.status_code == (201 if kind == "new" else 400), response.text

    new, taken_time = statistics.median(timings["new"]), statistics.median(timings["taken"])
    assert abs(new - taken_time) < max(0.3 * new, 0.1), timings


def _page_sign_in(session: GatewaySession, email: str, password: str):
    time.sleep(0.25)
    return sign_in_session(session, session.base_url, {"email": email, "password": password}, "/admin/orders/")


def test_sign_in_page_past_the_account_limit_answers_a_429_page(make_session, register_user):
    user = register_user()
    browser = make_session()
    for _ in range(ACCOUNT_LIMIT):
        response = _page_sign_in(browser, user["email"], "not-the-password-1")
        assert response.status_code == 401, response.text[:300]
        assert "No active account" in response.text

    response = _page_sign_in(browser, user["email"], "not-the-password-1")

    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("text/html")
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in response.text
    # One count across the platform: the API refuses this account too, until the window ends.
    _assert_throttled(_sign_in(make_session(), user["email"], user["password"]))


def test_sign_in_page_for_another_account_from_the_same_address_still_works(
    make_session, register_user, admin_credentials
):
    victim = register_user()
    browser = make_session()
    for _ in range(ACCOUNT_LIMIT + 1):
        _page_sign_in(browser, victim["email"], "not-the-password-1")

    response = _page_sign_in(browser, admin_credentials["email"], admin_credentials["password"])

    assert response.status_code == 302, response.text[:300]
