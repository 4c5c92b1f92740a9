"""Fixtures of the end-to-end tests: the gateway, sessions, fresh users and the staff account.

Configuration comes from the environment: GATEWAY_URL (default http://127.0.0.1:8080),
ADMIN_EMAIL and ADMIN_PASSWORD (the seeded staff account), FLOWER_USER and FLOWER_PASSWORD.
"""

import os
import uuid

import pytest

from .helpers import GatewaySession


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} must be set to run the end-to-end tests (see tests/conftest.py)", pytrace=False)
    return value


@pytest.fixture(scope="session")
def gateway_url() -> str:
    return os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")


@pytest.fixture(scope="session")
def admin_credentials() -> dict:
    return {"email": required_env("ADMIN_EMAIL"), "password": required_env("ADMIN_PASSWORD")}


@pytest.fixture(scope="session")
def flower_credentials() -> tuple[str, str]:
    return required_env("FLOWER_USER"), required_env("FLOWER_PASSWORD")


@pytest.fixture(scope="session")
def make_session(gateway_url):
    """`make_session(token=None)`: a new GatewaySession, optionally sending a bearer token."""
    sessions = []

    def make(token: str | None = None) -> GatewaySession:
        session = GatewaySession(gateway_url, token)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def api(make_session) -> GatewaySession:
    """An anonymous session."""
    return make_session()


@pytest.fixture(scope="session")
def register_user(make_session):
    """`register_user()`: a new user with its tokens: {id, email, password, access, refresh}."""

    def register() -> dict:
        session = make_session()
        email = f"e2e-{uuid.uuid4().hex}@example.com"
        password = f"E2e-{uuid.uuid4().hex}!"
        created = session.post_patiently("/api/users/register/", json={"email": email, "password": password})
        assert created.status_code == 201, created.text
        tokens = session.post_patiently("/api/users/token/", json={"email": email, "password": password})
        assert tokens.status_code == 200, tokens.text
        return {"id": created.json()["id"], "email": email, "password": password, **tokens.json()}

    return register


@pytest.fixture
def user(register_user) -> dict:
    return register_user()


@pytest.fixture
def user_api(make_session, user) -> GatewaySession:
    """A session authenticated as a new ordinary user."""
    return make_session(user["access"])


@pytest.fixture
def staff_token(make_session, admin_credentials) -> str:
    """A fresh access token of the seeded staff account (tokens live five minutes)."""
    response = make_session().post_patiently("/api/users/token/", json=admin_credentials)
    assert response.status_code == 200, f"staff sign-in failed: {response.text}"
    return response.json()["access"]


@pytest.fixture
def staff_api(make_session, staff_token) -> GatewaySession:
    """A session authenticated as the seeded staff account."""
    return make_session(staff_token)
