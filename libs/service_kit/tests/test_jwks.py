"""JWKS mode: keys come from a real HTTP endpoint, and no token makes the service fetch them per request."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from rest_framework_simplejwt import state
from rest_framework_simplejwt.backends import TokenBackend
from service_kit.authentication import JWKS_RETRY_SECONDS, RateLimitedJWKClient
from service_kit.testing import Identity, assert_envelope

WHOAMI = "/api/kit/whoami/"


class SigningKey:
    """An RSA key pair with its `kid`, as users_svc publishes one."""

    def __init__(self):
        self.kid = uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def jwk(self) -> dict:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "use": "sig", "alg": "RS256", "kid": self.kid}

    def token(self, identity: Identity, kid: str | None = None) -> str:
        return jwt.encode(claims(identity), self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def claims(identity: Identity) -> dict:
    """An access token's claims for the configured issuer and audience, as users_svc issues them."""
    now = int(time.time())
    return {
        "token_type": "access",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "user_id": identity.id,
        "email": identity.email,
        "is_staff": identity.is_staff,
        "iss": "shop-users",
        "aud": "shop",
    }


class JWKSServer(ThreadingHTTPServer):
    """A JWKS endpoint on 127.0.0.1 that counts the requests it answers; `status` other than 200 fails them."""

    def __init__(self):
        self.keys: list[dict] = []
        self.fetches = 0
        self.status = 200
        super().__init__(("127.0.0.1", 0), JWKSHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/users/jwks/"


class JWKSHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.fetches += 1
        body = json.dumps({"keys": self.server.keys}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def jwks_server(signing_key):
    server = JWKSServer()
    server.keys = [signing_key.jwk]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def jwks_backend(monkeypatch, jwks_server):
    """simplejwt's token backend in JWKS mode (JWT_JWKS_URL), as a service outside users_svc runs it."""
    backend = TokenBackend("RS256", audience="shop", issuer="shop-users", jwk_url=jwks_server.url)
    monkeypatch.setattr(state, "token_backend", backend)
    return backend


def whoami(api_client, token: str):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.get(WHOAMI)


def set_min_refresh(settings, seconds: float) -> None:
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "JWKS_MIN_REFRESH_SECONDS": seconds}


def test_token_with_a_published_kid_verifies_through_the_jwks(api_client, jwks_backend, jwks_server, signing_key):
    identity = Identity()

    response = whoami(api_client, signing_key.token(identity))

    assert response.status_code == 200, response.content
    assert response.json()["id"] == identity.id
    assert isinstance(jwks_backend.jwks_client, RateLimitedJWKClient)
    assert jwks_server.fetches == 1


def test_fifty_unknown_kids_fetch_the_key_set_once(api_client, jwks_backend, jwks_server, signing_key):
    identity = Identity(is_staff=True)
    forger = SigningKey()

    for _ in range(50):
        # Each forgery names a different kid, signed by a key nobody published.
        response = whoami(api_client, forger.token(identity, kid=uuid.uuid4().hex))
        assert_envelope(response, status=401, error_type="client_error", code="token_not_valid")
    genuine = whoami(api_client, signing_key.token(identity))

    assert jwks_server.fetches == 1
    assert genuine.status_code == 200, genuine.content


def test_real_key_under_an_unknown_kid_is_401_without_a_fetch(api_client, jwks_backend, jwks_server, signing_key):
    identity = Identity()
    assert whoami(api_client, signing_key.token(identity)).status_code == 200

    for _ in range(20):
        response = whoami(api_client, signing_key.token(identity, kid=uuid.uuid4().hex))
        assert_envelope(response, status=401, error_type="client_error", code="token_not_valid")

    assert jwks_server.fetches == 1


def test_rotated_key_verifies_once_the_refresh_interval_has_passed(
    settings, api_client, jwks_backend, jwks_server, signing_key
):
    set_min_refresh(settings, 2)
    identity = Identity()
    assert whoami(api_client, signing_key.token(identity)).status_code == 200
    rotated = SigningKey()
    jwks_server.keys = [signing_key.jwk, rotated.jwk]

    too_soon = whoami(api_client, rotated.token(identity))
    time.sleep(2.2)
    later = whoami(api_client, rotated.token(identity))

    assert_envelope(too_soon, status=401, error_type="client_error", code="token_not_valid")
    assert later.status_code == 200, later.content
    assert jwks_server.fetches == 2
    assert whoami(api_client, signing_key.token(identity)).status_code == 200


def test_endpoint_that_fails_is_not_asked_on_every_request(api_client, jwks_backend, jwks_server, signing_key):
    identity = Identity()
    jwks_server.status = 503

    started = time.monotonic()
    for _ in range(30):
        response = whoami(api_client, signing_key.token(identity))
        assert_envelope(response, status=401, error_type="client_error", code="token_not_valid")
    elapsed = time.monotonic() - started

    # One attempt, then one more per JWKS_RETRY_SECONDS at most.
    assert jwks_server.fetches <= 1 + int(elapsed / JWKS_RETRY_SECONDS)
    assert jwks_server.fetches < 30


def test_key_set_is_fetched_again_shortly_after_the_endpoint_recovers(
    api_client, jwks_backend, jwks_server, signing_key
):
    identity = Identity()
    jwks_server.status = 503
    assert whoami(api_client, signing_key.token(identity)).status_code == 401

    jwks_server.status = 200
    time.sleep(JWKS_RETRY_SECONDS + 0.1)
    response = whoami(api_client, signing_key.token(identity))

    assert response.status_code == 200, response.content
    assert jwks_server.fetches == 2
