"""Identity across services: users_svc signs RS256 tokens, every service verifies them alone."""

import uuid

import pytest

from .helpers import assert_envelope, hs256, public_pem_from_jwk, sign_with_fresh_key, token_parts, unsigned


def test_register_sign_in_and_read_own_profile(make_session, register_user):
    user = register_user()

    response = make_session(user["access"]).get("/api/users/me/")

    assert response.status_code == 200, response.text
    assert response.json()["email"] == user["email"]
    assert str(uuid.UUID(response.json()["id"])) == user["id"]


def test_profile_can_be_patched_by_its_owner(user_api):
    response = user_api.patch("/api/users/me/", json={"first_name": "Ada"})

    assert response.status_code == 200, response.text
    assert user_api.get("/api/users/me/").json()["first_name"] == "Ada"


def test_taken_email_is_400(api, user):
    response = api.post_patiently("/api/users/register/", json={"email": user["email"], "password": "Another-pass-77"})

    assert_envelope(response, 400, "validation_error")


def test_weak_password_is_400(api):
    email = f"e2e-{uuid.uuid4().hex}@example.com"

    response = api.post_patiently("/api/users/register/", json={"email": email, "password": "123"})

    body = assert_envelope(response, 400, "validation_error")
    assert body["errors"][0]["attr"] == "password"


def test_wrong_password_is_401(api, user):
    response = api.post_patiently("/api/users/token/", json={"email": user["email"], "password": "not-it-at-all"})

    assert_envelope(response, 401, "client_error")


def test_refresh_rotates_and_a_revoked_refresh_token_stops_working(make_session, user):
    session = make_session(user["access"])

    rotated = session.post_patiently("/api/users/token/refresh/", json={"refresh": user["refresh"]})
    assert rotated.status_code == 200, rotated.text
    assert set(rotated.json()) >= {"access", "refresh"}
    assert rotated.json()["refresh"] != user["refresh"]

    latest = rotated.json()["refresh"]
    revoked = session.post("/api/users/token/revoke/", json={"refresh": latest})
    assert revoked.status_code == 205, revoked.text

    response = session.post_patiently("/api/users/token/refresh/", json={"refresh": latest})
    assert_envelope(response, 401, "client_error")


def test_access_token_expires_five_minutes_after_issue(user):
    header, claims = token_parts(user["access"])

    assert header["alg"] == "RS256"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["user_id"] == user["id"]
    assert claims["email"] == user["email"]
    assert claims["is_staff"] is False


def test_jwks_publishes_public_rsa_keys_only(api):
    response = api.get("/api/users/jwks/")

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


@pytest.mark.parametrize("path", ["/api/users/me/", "/api/orders/", "/api/payments/"])
def test_users_token_is_accepted_by_every_service(make_session, user, path):
    response = make_session(user["access"]).get(path)

    assert response.status_code == 200, response.text


def forged_fresh_key(header, claims, jwks):
    return sign_with_fresh_key(header, claims)


def forged_expired(header, claims, jwks):
    return sign_with_fresh_key(header, {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 3000})


def alg_none(header, claims, jwks):
    return unsigned(header, claims)


def hs256_with_public_key(header, claims, jwks):
    jwk = next((key for key in jwks if key.get("kid") == header.get("kid")), jwks[0])
    return hs256(header, claims, public_pem_from_jwk(jwk))


@pytest.fixture
def jwks(api) -> list[dict]:
    response = api.get("/api/users/jwks/")
    assert response.status_code == 200, response.text
    return response.json()["keys"]


FORGERIES = [forged_fresh_key, forged_expired, alg_none, hs256_with_public_key]
PROTECTED = [
    ("GET", "/api/orders/", None),
    ("POST", "/api/inventory/products/", {"sku": "E2E-FORGED", "name": "Forged", "price": "1.00", "stock": 1}),
]


@pytest.mark.parametrize("forge", FORGERIES)
@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=["orders-list", "inventory-create"])
def test_forged_token_is_401_envelope(api, user, jwks, forge, method, path, body):
    header, claims = token_parts(user["access"])
    # Claiming staff makes a bypass visible: only the signature stands between it and a write.
    token = forge(header, {**claims, "is_staff": True}, jwks)

    response = api.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})

    assert_envelope(response, 401, "client_error")
