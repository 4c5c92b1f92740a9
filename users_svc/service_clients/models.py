"""Service clients: the identities other services sign in with (OAuth2 client credentials), never people."""

from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import RegexValidator
from django.db import models

SCOPE_PATTERN = r"\A[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*( [a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*)*\Z"
scopes_validator = RegexValidator(SCOPE_PATTERN, 'Space-separated scopes such as "reconcile:read".')


class ServiceClient(models.Model):
    # The client id a service sends, and the `sub` of its tokens.
    name = models.SlugField(max_length=64, unique=True)
    # Django's password hash of the secret; the secret itself is shown to no one after it is set.
    secret_hash = models.CharField(max_length=256)
    scopes = models.CharField(
        max_length=500, validators=[scopes_validator], help_text='Space-separated, e.g. "reconcile:read".'
    )
    is_active = models.BooleanField(default=True, help_text="An inactive client gets no tokens.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def set_secret(self, raw_secret: str) -> None:
        self.secret_hash = make_password(raw_secret)

    def check_secret(self, raw_secret: str) -> bool:
        return check_password(raw_secret, self.secret_hash)
