"""Writes of service clients (created or updated by `ensure_service_client`) and their tokens."""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from service_kit.exceptions import Invalid, Unauthenticated

from .models import ServiceClient
from .tokens import ServiceAccessToken


class InvalidClient(Unauthenticated):
    """Unknown client, wrong secret, or an inactive client: one answer for all three."""

    default_code = "invalid_client"
    default_message = "Client authentication failed."


class InvalidScope(Invalid):
    """A scope the client was not granted."""

    default_code = "invalid_scope"
    default_message = "The requested scope is not granted to this client."


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


def service_client_ensure(*, name: str, secret: str, scopes: list[str]) -> tuple[ServiceClient, bool]:
    """The client with exactly this secret and these scopes, active; (client, created). Safe to run again."""
    wanted_scopes = " ".join(sorted(set(scopes)))
    with transaction.atomic():
        client = ServiceClient.objects.select_for_update().filter(name=name).first()
        created = client is None
        if created:
            client = ServiceClient(name=name)
        if created or not client.check_secret(secret):
            client.set_secret(secret)
        client.scopes = wanted_scopes
        client.is_active = True
        client.full_clean()
        client.save()
    return client, created


def service_token_issue(*, client_id: str, client_secret: str, scope: str | None = None) -> IssuedToken:
    """A short-lived service token for the client, with the requested scopes (all of its scopes by default)."""
    client = ServiceClient.objects.filter(name=client_id, is_active=True).first()
    if client is None:
        make_password(client_secret)  # as long as a real check, so timing does not tell which clients exist
        raise InvalidClient()
    if not client.check_secret(client_secret):
        raise InvalidClient()
    requested = frozenset(scope.split()) if scope else client.scope_set
    if not requested or not requested <= client.scope_set:
        raise InvalidScope(field="scope")
    token = ServiceAccessToken.for_client(client, scopes=requested)
    return IssuedToken(
        access_token=str(token),
        expires_in=int(ServiceAccessToken.lifetime.total_seconds()),
        scope=token["scope"],
    )
