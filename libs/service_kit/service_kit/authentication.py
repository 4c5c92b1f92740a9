"""Bearer JWT authentication: RS256 verified with the public key alone, no database query."""

from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.models import TokenUser


class ServiceUser(TokenUser):
    """The caller as the token describes it: `id` (UUID string), `email`, `is_staff`."""

    @property
    def email(self) -> str:
        return self.token.get("email", "")


class JWTAuthentication(JWTStatelessUserAuthentication):
    """simplejwt's stateless authentication; ALGORITHM, keys, issuer and audience come from SIMPLE_JWT."""
