"""The platform's one sign-in as each service sees it: the access cookie authenticates the API (with CSRF
for writes) and makes a staff person the admin's user; every "Log in" and "Log out" is the platform's."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from service_kit.signin import ACCESS_COOKIE, RENEW_PATH, SIGNOUT_PATH
from service_kit.testing import Identity, token_for

pytestmark = pytest.mark.django_db

ADMIN = "/admin/kit/"


def browser(identity: Identity | None = None, *, csrf_checks: bool = False, **claims) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    if identity is not None:
        client.cookies[ACCESS_COOKIE] = token_for(identity, **claims)
    return client


def test_the_access_cookie_authenticates_the_api_like_a_bearer_token():
    person = Identity()

    response = browser(person).get("/api/kit/whoami/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {"id": person.id, "email": person.email, "is_staff": False}


def test_an_expired_or_forged_cookie_is_no_sign_in():
    person = Identity()
    expired = browser(person, exp=1_000_000_000)
    forged = Client()
    forged.cookies[ACCESS_COOKIE] = token_for(person)[:-4] + "AAAA"

    for client in (expired, forged):
        response = client.get("/api/kit/whoami/", HTTP_ACCEPT="application/json")
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_write_with_the_cookie_needs_the_csrf_token(settings):
    client = browser(Identity(is_staff=True), csrf_checks=True)
    secret = "s" * 32  # a CSRF cookie as Django sets it: the header must repeat it
    client.cookies[settings.CSRF_COOKIE_NAME] = secret

    refused = client.post("/api/kit/notes/", {"text": "hi"}, content_type="application/json")
    accepted = client.post("/api/kit/notes/", {"text": "hi"}, content_type="application/json", HTTP_X_CSRFTOKEN=secret)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["errors"][0]["detail"]
    assert accepted.status_code in (200, 201), accepted.content


def test_a_bearer_token_write_needs_no_csrf_token():
    staff = Identity(is_staff=True)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token_for(staff)}")

    response = client.post("/api/kit/notes/", {"text": "hi"}, content_type="application/json")

    assert response.status_code in (200, 201), response.content


def test_a_staff_cookie_opens_the_admin_as_a_local_user_without_a_password():
    staff = Identity(is_staff=True)

    response = browser(staff, is_superuser=True).get(ADMIN)

    assert response.status_code == 200
    user = get_user_model().objects.get(username=staff.id)
    assert (user.email, user.is_staff, user.is_superuser) == (staff.email, True, True)
    assert not user.has_usable_password()


def test_the_local_user_follows_the_token_claims():
    staff = Identity(is_staff=True)
    browser(staff, is_superuser=True).get(ADMIN)

    browser(staff, is_superuser=False, roles={"kit": "viewer"}).get(ADMIN)

    assert get_user_model().objects.get(username=staff.id).is_superuser is False


@pytest.mark.parametrize(
    ("is_staff", "claims"), [(False, {}), (True, {"exp": 1_000_000_000})], ids=["not-staff", "expired"]
)
def test_without_a_staff_cookie_the_admin_sends_the_browser_to_the_platform_sign_in(is_staff, claims):
    person = Identity(is_staff=is_staff)

    index = browser(person, **claims).get(ADMIN)
    assert index.status_code == 302
    login = Client().get(index["Location"])

    assert login.status_code == 302
    assert login["Location"] == f"{RENEW_PATH}?next=%2Fadmin%2Fkit%2F"
    assert not get_user_model().objects.filter(username=person.id).exists()


def test_log_in_and_log_out_everywhere_are_the_platforms():
    client = Client()

    assert (
        client.get("/api/kit/auth/login/?next=/api/kit/notes/")["Location"]
        == f"{RENEW_PATH}?next=%2Fapi%2Fkit%2Fnotes%2F"
    )
    # Never to another site.
    assert (
        client.get("/api/kit/auth/login/?next=https://evil.example/")["Location"]
        == f"{RENEW_PATH}?next=%2Fadmin%2Fkit%2F"
    )
    assert client.get("/api/kit/auth/logout/")["Location"] == SIGNOUT_PATH
    assert client.post(f"{ADMIN}logout/")["Location"] == SIGNOUT_PATH


def test_a_signed_in_person_sent_to_sign_in_gets_the_form_not_a_loop():
    customer = browser(Identity())

    index = customer.get(ADMIN)
    login = customer.get(index["Location"])

    assert login.status_code == 302
    assert login["Location"] == "/api/users/signin/?next=%2Fadmin%2Fkit%2F"
