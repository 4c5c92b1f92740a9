"""The HTTP API of users_svc, through DRF's test client and real tokens."""

import uuid
from datetime import timedelta

import jwt
import pytest
from rest_framework.test import APIClient
from service_kit.testing import client_for

from accounts.models import User
from accounts.tokens import RefreshToken

from .factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/users/register/"
TOKEN = "/api/users/token/"
REFRESH = "/api/users/token/refresh/"
REVOKE = "/api/users/token/revoke/"
ME = "/api/users/me/"
JWKS = "/api/users/jwks/"


def _error(response) -> dict:
    """The single error of an envelope, after checking the envelope's shape."""
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] in {"validation_error", "client_error"}
    assert body["errors"] and all(set(error) == {"code", "detail", "attr"} for error in body["errors"])
    return body["errors"][0]


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _verified_claims(api_client, token: str) -> dict:
    """The claims of a token verified with the key the JWKS publishes, as another service would."""
    keys = {key["kid"]: key for key in api_client.get(JWKS).json()["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    public_key = jwt.PyJWK(keys[header["kid"]]).key
    return jwt.decode(token, public_key, algorithms=["RS256"], audience="shop", issuer="shop-users")


# register


def test_register_creates_user_and_returns_public_profile(api_client):
    payload = {"email": "New.User@Example.com", "password": "a-long-unusual-pass-42", "first_name": "New"}

    response = api_client.post(REGISTER, payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "first_name", "last_name"}
    assert body["email"] == "new.user@example.com"
    assert (body["first_name"], body["last_name"]) == ("New", "")
    user = User.objects.get(id=uuid.UUID(body["id"]))
    assert user.check_password("a-long-unusual-pass-42")
    assert user.is_active and not user.is_staff


def test_registered_user_can_obtain_tokens(api_client):
    api_client.post(REGISTER, {"email": "fresh@example.com", "password": "a-long-unusual-pass-42"}, format="json")

    response = api_client.post(
        TOKEN, {"email": "fresh@example.com", "password": "a-long-unusual-pass-42"}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "weak-user@example.com"])
def test_register_refuses_weak_password(api_client, password):
    response = api_client.post(REGISTER, {"email": "weak-user@example.com", "password": password}, format="json")

    assert response.status_code == 400
    assert _error(response)["attr"] == "password"
    assert not User.objects.filter(email="weak-user@example.com").exists()


def test_register_refuses_email_taken_in_another_case(api_client, user):
    response = api_client.post(
        REGISTER, {"email": user.email.upper(), "password": "a-long-unusual-pass-42"}, format="json"
    )

    assert response.status_code == 400
    error = _error(response)
    assert (error["attr"], error["code"]) == ("email", "unique")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [{}, {"email": "not-an-email", "password": "a-long-unusual-pass-42"}, {"email": "x@example.com"}],
)
def test_register_refuses_missing_or_malformed_fields(api_client, payload):
    response = api_client.post(REGISTER, payload, format="json")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_register_cannot_make_staff(api_client):
    payload = {"email": "sneaky@example.com", "password": "a-long-unusual-pass-42", "is_staff": True}

    response = api_client.post(REGISTER, payload, format="json")

    assert response.status_code == 201
    assert not User.objects.get(email="sneaky@example.com").is_staff


# token


def test_token_returns_pair_for_valid_credentials_in_any_email_case(api_client, user, password):
    response = api_client.post(TOKEN, {"email": user.email.upper(), "password": password}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_token_with_wrong_password_is_401_in_error_envelope(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email, "password": "wrong-password"}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "no_active_account",
                "detail": "No active account found with the given credentials.",
                "attr": None,
            }
        ],
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_for_unknown_email_is_401(api_client):
    response = api_client.post(TOKEN, {"email": "nobody@example.com", "password": "whatever-123"}, format="json")

    assert response.status_code == 401


def test_token_for_inactive_user_is_401(api_client, password):
    user = UserFactory(is_active=False)

    response = api_client.post(TOKEN, {"email": user.email, "password": password}, format="json")

    assert response.status_code == 401


def test_token_without_password_is_400(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email}, format="json")

    assert response.status_code == 400
    assert _error(response)["attr"] == "password"


def test_an_access_token_is_issued_when_its_refresh_token_was_and_lives_its_lifetime_from_then(user):
    refresh = RefreshToken.for_user(user)
    refresh.current_time -= timedelta(seconds=10)  # the access token made later than its pair's time
    refresh.set_iat(at_time=refresh.current_time)

    access = refresh.access_token

    assert access["iat"] == refresh["iat"]
    assert access["exp"] - access["iat"] == 5 * 60


def test_access_token_names_jwks_key_and_carries_user_claims(api_client, user, tokens):
    claims = _verified_claims(api_client, tokens["access"])

    assert claims["token_type"] == "access"
    assert claims["user_id"] == str(user.id)
    assert claims["email"] == user.email
    assert claims["is_staff"] is False
    assert (claims["iss"], claims["aud"]) == ("shop-users", "shop")
    assert claims["exp"] - claims["iat"] == 5 * 60
    jwks_kids = [key["kid"] for key in api_client.get(JWKS).json()["keys"]]
    assert jwt.get_unverified_header(tokens["access"])["kid"] in jwks_kids


def test_refresh_token_carries_the_same_claims(api_client, user, tokens):
    claims = _verified_claims(api_client, tokens["refresh"])

    assert claims["token_type"] == "refresh"
    assert (claims["user_id"], claims["email"], claims["is_staff"]) == (str(user.id), user.email, False)


def test_staff_token_says_is_staff(api_client, password):
    staff = UserFactory(is_staff=True)

    access = api_client.post(TOKEN, {"email": staff.email, "password": password}, format="json").json()["access"]

    assert _verified_claims(api_client, access)["is_staff"] is True


def test_token_signed_with_another_key_is_rejected(user):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = jwt.encode(
        {
            "token_type": "access",
            "user_id": str(user.id),
            "exp": 4102444800,
            "jti": "x",
            "aud": "shop",
            "iss": "shop-users",
        },
        other_pem,
        algorithm="RS256",
    )

    assert _bearer(forged).get(ME).status_code == 401


# refresh


def test_refresh_rotates_and_the_old_refresh_token_is_then_rejected(api_client, tokens):
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != tokens["refresh"]
    assert _bearer(pair["access"]).get(ME).status_code == 200

    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert _error(reused)["code"] == "token_not_valid"
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 200


def test_refreshed_access_token_carries_the_users_current_claims(api_client, user, tokens):
    User.objects.filter(id=user.id).update(is_staff=True)

    pair = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").json()

    claims = _verified_claims(api_client, pair["access"])
    assert (claims["user_id"], claims["email"], claims["is_staff"]) == (str(user.id), user.email, True)


def test_access_token_cannot_be_used_as_refresh_token(api_client, tokens):
    response = api_client.post(REFRESH, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 401


def test_refresh_with_garbage_is_401(api_client):
    response = api_client.post(REFRESH, {"refresh": "not.a.token"}, format="json")

    assert response.status_code == 401
    assert _error(response)["code"] == "token_not_valid"


def test_refresh_without_token_is_400(api_client):
    response = api_client.post(REFRESH, {}, format="json")

    assert response.status_code == 400


def test_refresh_for_deleted_user_is_401(api_client, user, tokens):
    user.delete()

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401


def test_refresh_for_deactivated_user_is_401(api_client, user, tokens):
    User.objects.filter(id=user.id).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401


# revoke


def test_revoke_makes_the_refresh_token_unusable(api_client, auth_client, tokens):
    response = auth_client.post(REVOKE, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 205
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_revoke_of_another_users_refresh_token_is_403_and_leaves_it_usable(api_client, tokens, password):
    other = UserFactory()
    other_tokens = api_client.post(TOKEN, {"email": other.email, "password": password}, format="json").json()

    response = _bearer(tokens["access"]).post(REVOKE, {"refresh": other_tokens["refresh"]}, format="json")

    assert response.status_code == 403
    assert _error(response)["code"] == "permission_denied"
    assert api_client.post(REFRESH, {"refresh": other_tokens["refresh"]}, format="json").status_code == 200


def test_revoke_requires_authentication(api_client, tokens):
    response = api_client.post(REVOKE, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 200


def test_revoke_of_invalid_token_is_400(auth_client):
    response = auth_client.post(REVOKE, {"refresh": "not.a.token"}, format="json")

    assert response.status_code == 400
    assert _error(response)["attr"] == "refresh"


def test_revoke_twice_is_400(auth_client, tokens):
    auth_client.post(REVOKE, {"refresh": tokens["refresh"]}, format="json")

    response = auth_client.post(REVOKE, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 400


# me


def test_me_returns_own_profile(user, auth_client):
    response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "is_staff": False,
    }


def test_me_accepts_tokens_minted_like_the_other_services_tests(user):
    response = client_for(user).get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)


def test_me_patch_changes_names_only(user, auth_client):
    payload = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "taken-over@example.com",
        "is_staff": True,
        "id": str(uuid.uuid4()),
    }

    response = auth_client.patch(ME, payload, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "first_name": "Grace",
        "last_name": "Hopper",
        "is_staff": False,
    }
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.is_staff) == ("Grace", "Hopper", False)
    assert not User.objects.filter(email="taken-over@example.com").exists()


def test_me_patch_refuses_overlong_name(auth_client):
    response = auth_client.patch(ME, {"first_name": "x" * 151}, format="json")

    assert response.status_code == 400
    assert _error(response)["attr"] == "first_name"


def test_me_put_is_not_allowed(auth_client):
    response = auth_client.put(ME, {"first_name": "Grace"}, format="json")

    assert response.status_code == 405


def test_me_requires_authentication(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert _error(response)["code"] == "not_authenticated"


def test_me_with_token_of_deleted_user_is_401(user, auth_client):
    user.delete()

    assert auth_client.get(ME).status_code == 401


def test_me_with_token_of_deactivated_user_is_401(user, auth_client):
    User.objects.filter(id=user.id).update(is_active=False)

    assert auth_client.get(ME).status_code == 401
    assert auth_client.patch(ME, {"first_name": "X"}, format="json").status_code == 401


# jwks


def test_jwks_publishes_the_signing_key_to_anyone(api_client):
    response = api_client.get(JWKS)

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert set(key) == {"kty", "use", "alg", "kid", "n", "e"}
    assert (key["kty"], key["use"], key["alg"], key["e"]) == ("RSA", "sig", "RS256", "AQAB")


def test_jwks_ignores_a_bad_authorization_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")

    assert api_client.get(JWKS).status_code == 200
