"""Writes of accounts: registration, profile changes, and the token life cycle (issue, rotate, revoke)."""

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch
from service_kit.logins import login_attempt, login_succeeded

from .models import User
from .selectors import user_email_taken, user_get_active
from .tokens import RefreshToken

EMAIL_TAKEN = serializers.ValidationError({"email": ["Email already in use."]}, code="unique")


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """A new active, non-staff user. The password is expected to have passed the validators already.

    The password is hashed before the email is looked up, so that a taken email answers in the time of a
    new one: the answer's timing tells no more than its body (which, as API.md states, says "taken").
    """
    password_hash = make_password(password)
    email = User.objects.normalize_email(email)
    if user_email_taken(email=email):
        raise EMAIL_TAKEN
    user = User(email=email, first_name=first_name, last_name=last_name, password=password_hash)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one address at once: the unique index decides.
        raise EMAIL_TAKEN from exc
    return user


def user_sign_in(*, request: HttpRequest, email: str, password: str) -> User:
    """The active user with these credentials. Raises TooManyAttempts past the account's or the address's
    limit of failures (service_kit.logins), AuthenticationFailed for wrong credentials.

    An unknown email costs one password hash too (Django's ModelBackend hashes for a missing user) and
    answers the same error, so neither body nor time tells whether the account exists.
    """
    login_attempt(request=request, identifier=email)
    user = authenticate(request, email=email, password=password)
    if user is None:
        raise exceptions.AuthenticationFailed(
            "No active account found with the given credentials.", code="no_active_account"
        )
    login_succeeded(request=request, identifier=email)
    return user


def user_profile_update(*, user: User, first_name: str | None = None, last_name: str | None = None) -> User:
    """Changes the names only: email, staff flag and id are not the user's to change here."""
    changed = {}
    if first_name is not None:
        changed["first_name"] = first_name
    if last_name is not None:
        changed["last_name"] = last_name
    for field, value in changed.items():
        setattr(user, field, value)
    if changed:
        user.save(update_fields=list(changed))
    return user


def token_pair_issue(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token_blacklist(token: RefreshToken) -> None:
    """Blacklists the token; TokenError when a concurrent request already did.

    The outstanding row is locked so that two uses of one refresh token cannot both succeed. Every token
    issued here has that row already; the defaults only cover one recorded nowhere.
    """
    jti = token[api_settings.JTI_CLAIM]
    with transaction.atomic():
        outstanding, _ = OutstandingToken.objects.select_for_update().get_or_create(
            jti=jti,
            defaults={
                "user": None,
                "token": str(token),
                "created_at": token.current_time,
                "expires_at": datetime_from_epoch(token["exp"]),
            },
        )
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise TokenError("Token is blacklisted")


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotates a refresh token: the old one is blacklisted, the new pair has the user's current claims.

    Raises TokenError for a bad, expired or used token, AuthenticationFailed when its user is gone or inactive.
    """
    token = RefreshToken(refresh)
    user = user_get_active(user_id=token.get(api_settings.USER_ID_CLAIM, ""))
    if user is None:
        raise exceptions.AuthenticationFailed("No active account found for the given token.", code="no_active_account")
    # The old token is spent only if the new pair is recorded too.
    with transaction.atomic():
        _refresh_token_blacklist(token)
        return token_pair_issue(user=user)


def token_revoke(*, refresh: str, user_id: str) -> None:
    """Blacklists a refresh token of the caller. Raises TokenError when invalid, PermissionDenied when not theirs."""
    token = RefreshToken(refresh)
    if str(token.get(api_settings.USER_ID_CLAIM)) != str(user_id):
        raise exceptions.PermissionDenied("This refresh token belongs to another user.")
    _refresh_token_blacklist(token)


def token_revoke_any(*, refresh: str) -> None:
    """Blacklists a refresh token whoever holds it: signing a browser out with the cookie it sent."""
    _refresh_token_blacklist(RefreshToken(refresh))
