"""Per-service roles are granted in the users admin, carried in the tokens' `roles` claim, and open the users
admin to a staff person with a role for it; its operators cannot raise anyone's rights."""

import jwt
import pytest
from django.test import Client
from service_kit.signin import SIGNIN_PATH

from accounts.models import ServiceRole, User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def claims(access: str) -> dict:
    return jwt.decode(access, options={"verify_signature": False})


def token_claims(api_client, user: User) -> dict:
    response = api_client.post("/api/users/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return claims(response.json()["access"])


def signed_in(user: User) -> Client:
    client = Client()
    response = client.post(SIGNIN_PATH, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def staff_with(**roles: str) -> User:
    staff = UserFactory(is_staff=True)
    for service, role in roles.items():
        ServiceRole.objects.create(user=staff, service=service, role=role)
    return staff


def test_a_staff_persons_roles_are_in_the_tokens_claims(api_client):
    staff = staff_with(orders="operator", inventory="viewer")

    assert token_claims(api_client, staff)["roles"] == {"orders": "operator", "inventory": "viewer"}


def test_a_customer_carries_no_roles_even_if_granted(api_client):
    customer = UserFactory()
    ServiceRole.objects.create(user=customer, service="orders", role="operator")

    assert "roles" not in token_claims(api_client, customer)


def test_a_renewed_token_carries_the_roles_as_they_are_now(api_client):
    staff = staff_with(orders="viewer")
    refresh = api_client.post("/api/users/token/", {"email": staff.email, "password": PASSWORD}, format="json")
    ServiceRole.objects.filter(user=staff).update(role="operator")

    renewed = api_client.post("/api/users/token/refresh/", {"refresh": refresh.json()["refresh"]}, format="json")

    assert claims(renewed.json()["access"])["roles"] == {"orders": "operator"}


def test_staff_with_another_services_role_only_is_refused_by_the_users_admin():
    response = signed_in(staff_with(orders="operator")).get("/admin/users/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/users/login/")


def test_a_users_viewer_sees_accounts_but_cannot_change_them():
    client = signed_in(staff_with(users="viewer"))
    other = UserFactory()

    assert client.get("/admin/users/").status_code == 200
    assert client.get("/admin/users/accounts/user/").status_code == 200
    page = client.get(f"/admin/users/accounts/user/{other.id}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_a_users_operator_changes_names_but_not_rights():
    operator = staff_with(users="operator")
    other = UserFactory()
    client = signed_in(operator)

    page = client.get(f"/admin/users/accounts/user/{other.id}/change/")
    response = client.post(
        f"/admin/users/accounts/user/{other.id}/change/",
        {
            "email": other.email,
            "first_name": "Renamed",
            "last_name": "",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "service_roles-TOTAL_FORMS": "1",
            "service_roles-INITIAL_FORMS": "0",
            "service_roles-0-service": "payments",
            "service_roles-0-role": "operator",
        },
    )

    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    assert response.status_code == 302, response.content
    other.refresh_from_db()
    assert other.first_name == "Renamed"
    assert (other.is_staff, other.is_superuser) == (False, False)
    assert not other.service_roles.exists()


def test_a_users_operator_cannot_change_a_superuser():
    client = signed_in(staff_with(users="operator"))
    superuser = UserFactory(is_staff=True, is_superuser=True)

    page = client.get(f"/admin/users/accounts/user/{superuser.id}/change/")
    password = client.get(f"/admin/users/accounts/user/{superuser.id}/password/")

    assert 'name="_save"' not in page.content.decode()
    assert password.status_code == 403


def test_a_superuser_grants_a_role_in_the_users_admin():
    client = signed_in(UserFactory(is_staff=True, is_superuser=True))
    person = UserFactory()

    response = client.post(
        f"/admin/users/accounts/user/{person.id}/change/",
        {
            "email": person.email,
            "first_name": "",
            "last_name": "",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "service_roles-TOTAL_FORMS": "1",
            "service_roles-INITIAL_FORMS": "0",
            "service_roles-0-service": "orders",
            "service_roles-0-role": "operator",
        },
    )

    assert response.status_code == 302, response.content
    person.refresh_from_db()
    assert person.is_staff
    assert dict(person.service_roles.values_list("service", "role")) == {"orders": "operator"}
