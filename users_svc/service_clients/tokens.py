"""The service token as users_svc signs it: the kit's ServiceToken, encoded with the user tokens' key and `kid`."""

from accounts.tokens import token_backend
from rest_framework_simplejwt.backends import TokenBackend
from service_kit.authentication import ServiceToken

from .models import ServiceClient


class ServiceAccessToken(ServiceToken):
    @property
    def token_backend(self) -> TokenBackend:
        return token_backend

    @classmethod
    def for_client(cls, client: ServiceClient, *, scopes: frozenset[str]) -> "ServiceAccessToken":
        token = cls()
        token["sub"] = client.name
        token["client_id"] = client.name
        token["scope"] = " ".join(sorted(scopes))
        return token
