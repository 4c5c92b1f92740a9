"""The platform's sign-in for browsers: the page sets the two cookies, renewal rotates them, signing out
(or a changed password) revokes the refresh token so nothing renews the browser again."""

import pytest
from django.test import Client
from rest_framework_simplejwt.settings import api_settings
from service_kit.signin import ACCESS_COOKIE, REFRESH_COOKIE, RENEW_PATH, SIGNIN_PATH, SIGNOUT_PATH

from accounts.models import ServiceRole, User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user: User, next_path: str = "/admin/orders/") -> tuple[Client, object]:
    client = Client()
    response = client.post(SIGNIN_PATH, {"email": user.email, "password": PASSWORD, "next": next_path})
    return client, response


def test_the_page_is_a_form_carrying_where_to_go_next():
    response = Client().get(f"{SIGNIN_PATH}?next=/admin/payments/")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in content
    assert 'name="next" value="/admin/payments/"' in content


def test_signing_in_sets_both_cookies_and_goes_next():
    user = UserFactory(is_staff=True)

    client, response = signed_in(user)

    assert response.status_code == 302
    assert response["Location"] == "/admin/orders/"
    access, refresh = response.cookies[ACCESS_COOKIE], response.cookies[REFRESH_COOKIE]
    assert access["httponly"] and access["samesite"] == "Lax" and access["path"] == "/"
    assert int(access["max-age"]) == int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())
    assert refresh["httponly"] and refresh["samesite"] == "Strict" and refresh["path"] == "/api/users/session/"
    # The cookie is an access token the API takes: the person it names.
    me = client.get("/api/users/me/", HTTP_ACCEPT="application/json")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_signing_in_never_sends_the_browser_to_another_site(next_path):
    _, response = signed_in(UserFactory(), next_path)

    assert response["Location"] == "/"


def test_a_wrong_password_sets_no_cookie():
    user = UserFactory()

    response = Client().post(SIGNIN_PATH, {"email": user.email, "password": "not-the-password-1"})

    assert response.status_code == 401
    assert "No active account" in response.content.decode()
    assert ACCESS_COOKIE not in response.cookies


def test_renewal_rotates_the_pair_and_spends_the_old_refresh_token():
    client, first = signed_in(UserFactory())
    old_refresh = first.cookies[REFRESH_COOKIE].value

    renewed = client.get(f"{RENEW_PATH}?next=/admin/inventory/")

    assert renewed.status_code == 302
    assert renewed["Location"] == "/admin/inventory/"
    assert renewed.cookies[REFRESH_COOKIE].value != old_refresh
    assert renewed.cookies[ACCESS_COOKIE].value
    replay = Client()
    replay.cookies[REFRESH_COOKIE] = old_refresh
    assert replay.get(f"{RENEW_PATH}?next=/x/")["Location"].startswith(SIGNIN_PATH)


def test_renewal_without_a_refresh_cookie_goes_to_the_sign_in_page_keeping_next():
    response = Client().get(f"{RENEW_PATH}?next=/admin/orders/")

    assert response.status_code == 302
    assert response["Location"] == f"{SIGNIN_PATH}?next=%2Fadmin%2Forders%2F"


def test_signing_out_clears_the_cookies_and_revokes_the_refresh_token():
    client, first = signed_in(UserFactory())
    refresh = first.cookies[REFRESH_COOKIE].value

    response = client.get(SIGNOUT_PATH)

    assert response.status_code == 200
    assert response.cookies[ACCESS_COOKIE].value == "" and response.cookies[REFRESH_COOKIE].value == ""
    thief = Client()
    thief.cookies[REFRESH_COOKIE] = refresh
    assert thief.get(RENEW_PATH)["Location"].startswith(SIGNIN_PATH)


def test_a_changed_password_stops_the_browser_from_renewing():
    user = UserFactory()
    client, _ = signed_in(user)

    user.set_password("a-new-password-for-tests-7")
    user.save()

    assert client.get(f"{RENEW_PATH}?next=/x/")["Location"].startswith(SIGNIN_PATH)


def test_the_staff_cookie_opens_the_users_admin_as_the_account_itself():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client, _ = signed_in(staff)

    assert client.get("/admin/users/").status_code == 200
    assert client.get("/admin/users/accounts/user/").status_code == 200


def test_a_customers_cookie_does_not_open_the_admin():
    client, _ = signed_in(UserFactory())

    response = client.get("/admin/users/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/users/login/")


def test_the_page_says_who_is_signed_in_when_that_person_may_not_open_the_page():
    user = UserFactory()
    client, _ = signed_in(user)

    page = client.get(f"{SIGNIN_PATH}?next=/admin/orders/")

    assert f"You are signed in as {user.email}, who may not open that page." in page.content.decode()


STAFF_CHECK = "/api/users/session/staff/"


def test_the_staff_check_answers_204_for_an_operators_cookie_and_403_for_staff_without_a_role():
    with_role = UserFactory(is_staff=True)
    ServiceRole.objects.create(user=with_role, service="orders", role="viewer")
    superuser = UserFactory(is_staff=True, is_superuser=True)
    no_role = UserFactory(is_staff=True)

    assert signed_in(with_role)[0].get(STAFF_CHECK).status_code == 204
    assert signed_in(superuser)[0].get(STAFF_CHECK).status_code == 204
    assert signed_in(no_role)[0].get(STAFF_CHECK).status_code == 403


def test_the_staff_check_answers_401_without_a_valid_cookie_and_403_for_a_customer():
    assert Client().get(STAFF_CHECK).status_code == 401
    forged = Client()
    forged.cookies[ACCESS_COOKIE] = "not.a.token"
    assert forged.get(STAFF_CHECK).status_code == 401
    customer, _ = signed_in(UserFactory())
    assert customer.get(STAFF_CHECK).status_code == 403


def test_the_staff_check_refuses_a_staff_account_deactivated_since_its_cookie():
    user = UserFactory(is_staff=True, is_superuser=True)
    client, _ = signed_in(user)
    assert client.get(STAFF_CHECK).status_code == 204
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert client.get(STAFF_CHECK).status_code == 403
