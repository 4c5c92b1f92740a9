"""POST /api/users/token/service/: client credentials for a scoped service token, never a person's token."""

import jwt
import pytest
from accounts.tests.factories import UserFactory
from django.conf import settings
from rest_framework.test import APIClient
from service_kit.testing import client_for

from service_clients.services import service_client_ensure

pytestmark = pytest.mark.django_db

SERVICE_TOKEN = "/api/users/token/service/"
ME = "/api/users/me/"
SECRET = "a-long-random-client-secret-0123456789"


@pytest.fixture
def service_client():
    client, _ = service_client_ensure(name="orders-reconciler", secret=SECRET, scopes=["reconcile:read"])
    return client


def grant(api_client, **overrides):
    body = {"grant_type": "client_credentials", "client_id": "orders-reconciler", "client_secret": SECRET}
    return api_client.post(SERVICE_TOKEN, {**body, **overrides}, format="json")


def verified_claims(token: str) -> dict:
    return jwt.decode(
        token,
        settings.SIMPLE_JWT["VERIFYING_KEY"],
        algorithms=["RS256"],
        audience=settings.SIMPLE_JWT["AUDIENCE"],
        issuer=settings.SIMPLE_JWT["ISSUER"],
    )


def test_client_credentials_give_a_scoped_token_naming_the_client_and_no_user(api_client, service_client):
    response = grant(api_client)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "reconcile:read"
    assert 0 < body["expires_in"] <= 300
    assert response["Cache-Control"] == "no-store"
    claims = verified_claims(body["access_token"])
    assert claims["token_type"] == "service"
    assert claims["sub"] == "orders-reconciler"
    assert claims["scope"] == "reconcile:read"
    assert "user_id" not in claims
    assert "is_staff" not in claims
    assert "kid" in jwt.get_unverified_header(body["access_token"])


def test_form_encoded_request_as_oauth2_clients_send_it(api_client, service_client):
    response = api_client.post(
        SERVICE_TOKEN,
        "grant_type=client_credentials&client_id=orders-reconciler&client_secret=" + SECRET,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.json()


def test_wrong_secret_is_401(api_client, service_client):
    response = grant(api_client, client_secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_client_is_401_like_a_wrong_secret(api_client, service_client):
    response = grant(api_client, client_id="nobody")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_client"


def test_inactive_client_is_401(api_client, service_client):
    service_client.is_active = False
    service_client.save()

    assert grant(api_client).status_code == 401


def test_scope_not_granted_is_400(api_client, service_client):
    response = grant(api_client, scope="reconcile:read orders:write")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == ("invalid_scope", "scope")


def test_other_grant_types_are_refused(api_client, service_client):
    response = grant(api_client, grant_type="password")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "grant_type"


def test_service_token_is_refused_by_a_person_only_endpoint(api_client, service_client):
    token = grant(api_client).json()["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_person_token_is_not_a_client_credential(api_client, service_client):
    person = client_for(UserFactory())

    response = person.post(
        SERVICE_TOKEN, {"grant_type": "client_credentials", "client_id": "orders-reconciler"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "client_secret"
