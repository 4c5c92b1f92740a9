"""Fixtures of the accounts tests; `api_client` and friends come from service_kit.testing."""

import pytest

from .factories import PASSWORD, UserFactory


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def tokens(api_client, user, password):
    """An {access, refresh} pair obtained through the API for `user`."""
    response = api_client.post("/api/users/token/", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def auth_client(tokens):
    """An API client sending the access token of `user`."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client
