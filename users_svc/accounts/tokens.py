"""Signed tokens of users_svc: simplejwt's, encoded with a `kid` header and carrying the user's claims.

simplejwt 5.5 always encodes through `rest_framework_simplejwt.state.token_backend` (its old
TOKEN_BACKEND_CLASS setting is removed), so the token classes here point at their own backend.
"""

from functools import cached_property
from typing import Any

import jwt
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.settings import api_settings
from service_kit.roles import ROLES_CLAIM

from .keys import public_jwk


class KeyIdTokenBackend(TokenBackend):
    """A TokenBackend whose tokens name their key: header `kid` = RFC 7638 thumbprint, as in the JWKS."""

    @cached_property
    def key_id(self) -> str:
        return public_jwk(self.verifying_key)["kid"]

    def encode(self, payload: dict[str, Any]) -> str:
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        return jwt.encode(
            claims,
            self.prepared_signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.key_id},
            json_encoder=self.json_encoder,
        )


token_backend = KeyIdTokenBackend(
    api_settings.ALGORITHM,
    api_settings.SIGNING_KEY,
    api_settings.VERIFYING_KEY,
    api_settings.AUDIENCE,
    api_settings.ISSUER,
    None,
    api_settings.LEEWAY,
    api_settings.JSON_ENCODER,
)


class AccessToken(tokens.AccessToken):
    @property
    def token_backend(self) -> TokenBackend:
        return token_backend


class RefreshToken(tokens.RefreshToken):
    """Carries `email`, `is_staff`, `is_superuser` and a staff person's `roles` so the access tokens made
    from it carry them too."""

    access_token_class = AccessToken

    @property
    def token_backend(self) -> TokenBackend:
        return token_backend

    @property
    def access_token(self) -> AccessToken:
        """The pair's access token, issued when this token was: simplejwt takes its `exp` from this token's
        time but its `iat` from its own, one second earlier than `exp` - lifetime when the two straddle a
        second."""
        access = super().access_token
        access.set_iat(at_time=self.current_time)
        return access

    @classmethod
    def for_user(cls, user) -> "RefreshToken":
        token = super().for_user(user)
        token["email"] = user.email
        token["is_staff"] = user.is_staff
        # Other services' admins give a staff person the superuser's rights when the account has them,
        # else those of the person's role in each (service_kit.roles).
        token["is_superuser"] = user.is_superuser
        if user.is_staff:
            token[ROLES_CLAIM] = dict(user.service_roles.values_list("service", "role"))
        return token
