"""Service tokens (client credentials): accepted by scope on internal endpoints, never taken for a person."""

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from service_kit.permissions import HasScope
from service_kit.testing import Identity, assert_envelope, client_for, service_client_for, service_token_for, token_for

from .helpers import claims_of, fresh_private_pem

SCOPED = "/api/kit/scoped/"
WHOAMI = "/api/kit/whoami/"
NOTES = "/api/kit/notes/"


def test_service_token_with_the_scope_is_let_in_as_its_client():
    response = service_client_for("kit:read other:write", client_id="reconciler").get(SCOPED)

    assert response.status_code == 200, response.content
    assert response.json() == {"client": "reconciler", "scopes": ["kit:read", "other:write"]}


def test_service_token_without_the_scope_is_403():
    response = service_client_for("other:read").get(SCOPED)

    assert_envelope(response, status=403, error_type="client_error", code="permission_denied")


@pytest.mark.parametrize("is_staff", [False, True])
def test_person_token_on_a_scoped_endpoint_is_403_even_for_staff(is_staff):
    response = client_for(Identity(is_staff=is_staff)).get(SCOPED)

    assert_envelope(response, status=403, error_type="client_error", code="permission_denied")


def test_person_token_claiming_a_scope_is_still_403():
    client = client_for(Identity(is_staff=True))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(Identity(is_staff=True), scope='kit:read')}")

    assert_envelope(client.get(SCOPED), status=403, error_type="client_error", code="permission_denied")


def test_no_token_on_a_scoped_endpoint_is_401(api_client):
    assert_envelope(api_client.get(SCOPED), status=401, error_type="client_error", code="not_authenticated")


def test_service_token_is_refused_by_the_default_authentication():
    response = service_client_for("kit:read").get(WHOAMI)

    assert_envelope(response, status=401, error_type="client_error", code="token_not_valid")


def test_service_token_cannot_write_where_staff_may():
    response = service_client_for("kit:read").post(NOTES, {"text": "hi"}, format="json")

    assert_envelope(response, status=401, error_type="client_error", code="token_not_valid")


def test_service_token_naming_a_user_is_refused(api_client):
    token = service_token_for("reconciler", "kit:read", user_id=Identity().id, is_staff=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_envelope(api_client.get(SCOPED), status=401, error_type="client_error", code="token_not_valid")
    assert_envelope(api_client.get(WHOAMI), status=401, error_type="client_error", code="token_not_valid")


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda claims: jwt.encode(claims, fresh_private_pem(), algorithm="RS256"), id="another-key"),
        pytest.param(
            lambda claims: service_token_for(
                "reconciler", "kit:read", iat=timezone.now() - timedelta(minutes=10), exp=timezone.now()
            ),
            id="expired",
        ),
        pytest.param(lambda claims: service_token_for("", "kit:read"), id="no-subject"),
    ],
)
def test_bad_service_tokens_are_401(api_client, forge):
    token = forge(claims_of(service_token_for("reconciler", "kit:read")))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_envelope(api_client.get(SCOPED), status=401, error_type="client_error", code="token_not_valid")


def test_has_scope_needs_a_scope():
    with pytest.raises(ValueError):
        HasScope()
