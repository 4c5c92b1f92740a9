"""Bearer JWT authentication: RS256 verified with the public key alone, no database query.

The key is a PEM file (JWT_PUBLIC_KEY_FILE) or users_svc's JWKS (JWT_JWKS_URL), fetched and cached.
A person's token has `token_type` "access" and a `user_id`; a service client's has `token_type` "service",
`sub` naming the client and `scope`, no user. The default authentication accepts people only; the internal
endpoints use ServiceTokenAuthentication, which accepts both, so that HasScope can refuse a person with 403.
"""

import threading
import time
import uuid

from django.utils.module_loading import import_string
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as DetailDictAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from .conf import kit_settings

# After a failed fetch (users_svc down or starting), the next attempt waits this long.
JWKS_RETRY_SECONDS = 1.0
JWKS_TIMEOUT_SECONDS = 5.0


class ServiceUser(TokenUser):
    """The caller as the token describes it: `id` (UUID string), `email`, `is_staff`."""

    @property
    def email(self) -> str:
        return self.token.get("email", "")

    def __str__(self) -> str:
        # What the browsable API shows as the signed-in person.
        return self.email or f"user {self.id}"


SERVICE_TOKEN_TYPE = "service"


class ServiceToken(Token):
    """A service client's access token (OAuth2 client credentials): `sub` = the client, `scope`, no user.

    Its own `token_type`, so the default authentication (simplejwt's AccessToken only) refuses it everywhere.
    """

    token_type = SERVICE_TOKEN_TYPE
    lifetime = api_settings.ACCESS_TOKEN_LIFETIME

    def verify(self) -> None:
        super().verify()
        if api_settings.USER_ID_CLAIM in self.payload:
            raise TokenError("A service token names no user.")
        if not isinstance(self.payload.get("sub"), str) or not self.payload["sub"]:
            raise TokenError("A service token names its client in `sub`.")
        if not isinstance(self.payload.get("scope", ""), str):
            raise TokenError("Token scope is not a string.")


class ServicePrincipal:
    """A service client as its token describes it: never a person, never staff, no user id."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    id = None
    pk = None
    email = ""

    def __init__(self, token: Token):
        self.token = token
        self.client_id: str = token["sub"]
        self.scopes: frozenset[str] = frozenset(str(token.get("scope", "")).split())

    def __str__(self) -> str:
        return f"service client {self.client_id}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class RateLimitedJWKClient(PyJWKClient):
    """PyJWT's JWKS client, asking the endpoint at most once per `min_refresh_seconds`.

    PyJWKClient fetches the key set again when a token names a `kid` it does not hold, so forged kids
    could make every request an HTTP call. A fetch within the interval of the last successful one is
    refused, an unknown kid then simply fails, and a rotated key is picked up at the next allowed fetch.
    A failed fetch holds off the next one for JWKS_RETRY_SECONDS only, so a restart of users_svc is
    not an outage of a minute.
    """

    def __init__(self, uri: str, *, min_refresh_seconds: float):
        super().__init__(
            uri,
            cooldown_duration=min_refresh_seconds,  # PyJWT's own guard, counted from its last success
            lifespan=max(300, min_refresh_seconds),
            timeout=JWKS_TIMEOUT_SECONDS,
        )
        self.min_refresh_seconds = min_refresh_seconds
        self._next_fetch_at = 0.0
        self._fetch_lock = threading.Lock()

    def fetch_data(self):
        with self._fetch_lock:
            now = time.monotonic()
            if now < self._next_fetch_at:
                raise PyJWKClientConnectionError("The JWKS was fetched too recently to fetch it again.")
            self._next_fetch_at = now + JWKS_RETRY_SECONDS
            data = super().fetch_data()
            self._next_fetch_at = now + self.min_refresh_seconds
            return data


def limit_jwks_fetches() -> None:
    """Puts a RateLimitedJWKClient on simplejwt's token backend when it verifies through a JWKS URL."""
    backend = import_string("rest_framework_simplejwt.state.token_backend")
    client = backend.jwks_client
    if client is not None and not isinstance(client, RateLimitedJWKClient):
        backend.jwks_client = RateLimitedJWKClient(
            client.uri, min_refresh_seconds=kit_settings.JWKS_MIN_REFRESH_SECONDS
        )


class JWTAuthentication(JWTStatelessUserAuthentication):
    """simplejwt's stateless authentication; ALGORITHM, keys, issuer and audience come from SIMPLE_JWT."""

    def authenticate(self, request):
        # simplejwt's own errors ("Bearer" without a token, a token without a user) carry a dict
        # detail, which the envelope would split into two errors; one plain error instead.
        try:
            return super().authenticate(request)
        except DetailDictAuthenticationFailed as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            message = str(detail.get("detail", "Token is invalid or expired."))
            raise AuthenticationFailed(message, code=str(detail.get("code", "token_not_valid"))) from exc

    def get_validated_token(self, raw_token):
        # simplejwt builds its backend's JWKS client itself; swap it for the rate-limited one first.
        limit_jwks_fetches()
        # simplejwt's detail is a nested dict; the envelope wants one plain error. A signed `exp`
        # beyond what a datetime holds overflows in simplejwt's own check: invalid too, not a 500.
        try:
            return super().get_validated_token(raw_token)
        except (InvalidToken, OverflowError) as exc:
            raise AuthenticationFailed("Token is invalid or expired.", code="token_not_valid") from exc

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        try:
            uuid.UUID(str(user.id))
        except ValueError:
            raise InvalidToken("Token user_id is not a UUID.") from None
        return user


class ServiceTokenAuthentication(JWTAuthentication):
    """For internal endpoints: a service token gives a ServicePrincipal; a person's token still
    authenticates (as that person), so a permission such as HasScope answers it 403, not 401."""

    def get_validated_token(self, raw_token):
        limit_jwks_fetches()
        try:
            return ServiceToken(raw_token)
        except (TokenError, OverflowError):
            return super().get_validated_token(raw_token)

    def get_user(self, validated_token):
        if isinstance(validated_token, ServiceToken):
            return ServicePrincipal(validated_token)
        return super().get_user(validated_token)


class JWTScheme(SimpleJWTScheme):
    """Documents the Bearer scheme in every service's OpenAPI schema."""

    target_class = "service_kit.authentication.JWTAuthentication"
