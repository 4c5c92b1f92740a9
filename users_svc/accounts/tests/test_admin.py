"""The staff account made by ensure_staff, and the admin at /admin/users/."""

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-pass-for-tests-9"


@pytest.fixture
def staff_env(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("ADMIN_PASSWORD", ADMIN_PASSWORD)


@pytest.fixture
def admin_client(staff_env):
    call_command("ensure_staff")
    client = Client()
    # The platform's one sign-in: its cookie is what the admin reads.
    response = client.post("/api/users/signin/", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 302, response.content
    return client


def test_ensure_staff_creates_superuser_who_can_sign_in_to_the_admin(admin_client):
    user = User.objects.get(email=ADMIN_EMAIL)

    assert user.is_staff and user.is_superuser
    assert admin_client.get("/admin/users/").status_code == 200
    assert admin_client.get("/admin/users/accounts/user/").status_code == 200


def test_ensure_staff_twice_keeps_one_account(staff_env):
    call_command("ensure_staff")
    call_command("ensure_staff")

    assert User.objects.filter(email=ADMIN_EMAIL).count() == 1


def test_ensure_staff_account_gets_staff_tokens(staff_env, api_client):
    call_command("ensure_staff")

    response = api_client.post("/api/users/token/", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, format="json")

    assert response.status_code == 200


def test_admin_adds_a_user_by_email(admin_client):
    response = admin_client.post(
        "/admin/users/accounts/user/add/",
        {
            "email": "Added@Example.com",
            "first_name": "Added",
            "last_name": "",
            "usable_password": "true",
            "password1": "a-long-unusual-pass-42",
            "password2": "a-long-unusual-pass-42",
        },
    )

    assert response.status_code == 302, response.content
    user = User.objects.get(email="added@example.com")
    assert user.check_password("a-long-unusual-pass-42")
    assert admin_client.get(f"/admin/users/accounts/user/{user.id}/change/").status_code == 200


def test_admin_refuses_an_email_taken_in_another_case(admin_client):
    response = admin_client.post(
        "/admin/users/accounts/user/add/",
        {
            "email": ADMIN_EMAIL.upper(),
            "usable_password": "true",
            "password1": "a-long-unusual-pass-42",
            "password2": "a-long-unusual-pass-42",
        },
    )

    assert response.status_code == 200
    assert User.objects.count() == 1


def test_ordinary_user_cannot_enter_the_admin(user, password):
    client = Client()
    client.post("/admin/users/login/", {"username": user.email, "password": password})

    assert client.get("/admin/users/").status_code == 302
