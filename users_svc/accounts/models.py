"""The platform's accounts: a user signs in with an email address; its UUID is the public id."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from service_kit.front_door import SERVICES
from service_kit.roles import ROLE_CHOICES


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """The whole address lower-cased: addresses differing only in case are one account."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email__iexact=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin; tokens say `is_staff`.")
    is_active = models.BooleanField(default=True, help_text="Inactive users cannot sign in or refresh tokens.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="accounts_user_email_ci_unique", violation_error_message="Email already in use."
            )
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        # set_password() keeps the new password in _password until the save, whoever calls it: the
        # admin's password form, `manage.py changepassword`, a reset.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            refresh_tokens_revoke(user=self)

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class ServiceRole(models.Model):
    """A staff person's role in one service's admin (service_kit.roles), carried in the tokens' `roles` claim.

    A superuser needs none: superusers open every admin with every permission."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="service_roles")
    service = models.CharField(max_length=20, choices=[(name, name) for name in SERVICES])
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)

    class Meta:
        ordering = ["service"]
        constraints = [models.UniqueConstraint(fields=["user", "service"], name="accounts_servicerole_one_per_service")]

    def __str__(self) -> str:
        return f"{self.service}: {self.role}"


def refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token of the user still outstanding: none of them renews an access token.

    Access tokens already given out stay valid until they expire (minutes): the other services verify
    them alone, without asking users_svc.
    """
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(revoked)
