"""Bearer JWT authentication: RS256 verified with the public key alone, no database query."""

import uuid

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.models import TokenUser


class ServiceUser(TokenUser):
    """The caller as the token describes it: `id` (UUID string), `email`, `is_staff`."""

    @property
    def email(self) -> str:
        return self.token.get("email", "")


class JWTAuthentication(JWTStatelessUserAuthentication):
    """simplejwt's stateless authentication; ALGORITHM, keys, issuer and audience come from SIMPLE_JWT."""

    def get_validated_token(self, raw_token):
        # simplejwt's detail is a nested dict; the envelope wants one plain error.
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken as exc:
            raise AuthenticationFailed("Token is invalid or expired.", code="token_not_valid") from exc

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        try:
            uuid.UUID(str(user.id))
        except ValueError:
            raise InvalidToken("Token user_id is not a UUID.") from None
        return user


class JWTScheme(SimpleJWTScheme):
    """Documents the Bearer scheme in every service's OpenAPI schema."""

    target_class = "service_kit.authentication.JWTAuthentication"
