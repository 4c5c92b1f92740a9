"""JWT authentication: RS256 with the public key alone; every other token is a 401 envelope."""

import os
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.utils import timezone
from service_kit.testing import Identity, assert_envelope, token_for

from .helpers import claims_of, fresh_private_pem, hs256_token, unsigned_token

WHOAMI = "/api/kit/whoami/"


@pytest.mark.django_db
def test_valid_token_gives_the_identity_without_a_database_query(api_client, django_assert_num_queries):
    identity = Identity(is_staff=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(identity)}")

    with django_assert_num_queries(0):
        response = api_client.get(WHOAMI)

    assert response.status_code == 200
    assert response.json() == {"id": identity.id, "email": identity.email, "is_staff": True}


def test_plugin_clients_carry_their_identity(user_client, staff_client):
    user = user_client.get(WHOAMI).json()
    staff = staff_client.get(WHOAMI).json()

    assert user == {"id": user_client.identity.id, "email": user_client.identity.email, "is_staff": False}
    assert staff["is_staff"] is True


def test_missing_token_is_401_with_a_bearer_challenge(api_client):
    response = api_client.get(WHOAMI)

    assert_envelope(response, status=401, error_type="client_error", code="not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def expired(identity):
    now = timezone.now()
    return token_for(identity, iat=now - timedelta(minutes=10), exp=now - timedelta(seconds=1))


def signed_by_another_key(identity):
    return jwt.encode(claims_of(token_for(identity)), fresh_private_pem(), algorithm="RS256")


def alg_none(identity):
    return unsigned_token(claims_of(token_for(identity)))


def hs256_with_public_key(identity):
    public_pem = Path(os.environ["JWT_PUBLIC_KEY_FILE"]).read_bytes()
    return hs256_token(claims_of(token_for(identity)), public_pem)


def wrong_issuer(identity):
    return token_for(identity, iss="someone-else")


def wrong_audience(identity):
    return token_for(identity, aud="another-platform")


def refresh_type(identity):
    return token_for(identity, token_type="refresh")


def non_uuid_user_id(identity):
    return token_for(identity, user_id="42")


def garbage(identity):
    return "not.a.token"


@pytest.mark.parametrize(
    "make_token",
    [
        expired,
        signed_by_another_key,
        alg_none,
        hs256_with_public_key,
        wrong_issuer,
        wrong_audience,
        refresh_type,
        non_uuid_user_id,
        garbage,
    ],
)
def test_untrusted_token_is_401_envelope(api_client, identity, make_token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(identity)}")

    response = api_client.get(WHOAMI)

    assert_envelope(response, status=401, error_type="client_error", code="token_not_valid")


def test_untrusted_token_is_one_error_without_attr(api_client, identity):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh_type(identity)}")

    body = assert_envelope(api_client.get(WHOAMI), status=401, error_type="client_error", code="token_not_valid")

    assert len(body["errors"]) == 1
    assert body["errors"][0]["attr"] is None


def test_access_token_lives_five_minutes_for_the_configured_issuer_and_audience(identity):
    claims = claims_of(token_for(identity))

    assert claims["exp"] - claims["iat"] == 300
    assert claims["iss"] == "shop-users"
    assert claims["aud"] == "shop"
    assert claims["token_type"] == "access"


@pytest.mark.parametrize("header", ["Bearer", "Bearer two tokens", "Bearer a.b.c extra"])
def test_malformed_bearer_header_is_one_401_error_without_attr(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    body = assert_envelope(
        api_client.get(WHOAMI), status=401, error_type="client_error", code="bad_authorization_header"
    )

    assert len(body["errors"]) == 1
    assert body["errors"][0]["attr"] is None


@pytest.mark.parametrize("make_token", [non_uuid_user_id, lambda identity: token_for(identity, user_id=None)])
def test_token_without_a_usable_user_id_is_one_401_error_without_attr(api_client, identity, make_token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(identity)}")

    body = assert_envelope(api_client.get(WHOAMI), status=401, error_type="client_error", code="token_not_valid")

    assert len(body["errors"]) == 1
    assert body["errors"][0]["attr"] is None


def test_signed_token_with_an_expiry_beyond_any_date_is_401_not_500(api_client, identity):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(identity, exp=10**30)}")

    assert_envelope(api_client.get(WHOAMI), status=401, error_type="client_error", code="token_not_valid")
