"""Changing a password revokes every refresh token of the account, whichever way it is changed."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-new-password-for-tests-7"


def refresh(refresh_token: str):
    return APIClient().post("/api/users/token/refresh/", {"refresh": refresh_token}, format="json")


def sign_in(user: User, password: str) -> dict:
    response = APIClient().post("/api/users/token/", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_password_changed_in_code_revokes_every_refresh_token(password):
    user = UserFactory()
    first, second = sign_in(user, password), sign_in(user, password)
    rotated = refresh(first["refresh"])
    assert rotated.status_code == 200, rotated.json()

    user.set_password(NEW_PASSWORD)
    user.save()

    for token in (second["refresh"], rotated.json()["refresh"]):
        response = refresh(token)
        assert response.status_code == 401, response.json()
        assert response.json()["errors"][0]["code"] == "token_not_valid"
    # The new password signs in, and its tokens renew.
    assert refresh(sign_in(user, NEW_PASSWORD)["refresh"]).status_code == 200


def test_a_password_changed_in_the_admin_revokes_the_old_refresh_token(password, monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-pass-for-tests-9")
    call_command("ensure_staff")
    user = UserFactory()
    old = sign_in(user, password)
    admin = APIClient()
    assert admin.login(username="admin@example.com", password="admin-pass-for-tests-9")

    response = admin.post(
        f"/admin/users/accounts/user/{user.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert response.status_code == 302, response.content[:2000]
    assert refresh(old["refresh"]).status_code == 401


def test_saving_other_fields_revokes_nothing(password):
    user = UserFactory()
    tokens = sign_in(user, password)

    user.first_name = "Renamed"
    user.save()

    assert refresh(tokens["refresh"]).status_code == 200
