"""Writes of accounts: registration, profile changes, and the token life cycle (issue, rotate, revoke)."""

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch
from service_kit.exceptions import Forbidden, Invalid, Unauthenticated
from service_kit.logins import login_attempt, login_succeeded

from .models import User
from .selectors import user_email_taken, user_get_active
from .tokens import RefreshToken

# simplejwt's own words for a spent refresh token, so a lost race reads as the token's second use does.
TOKEN_BLACKLISTED = "Token is blacklisted"


class EmailTaken(Invalid):
    """Registration with an address that has an account: a 400 on `email`, as API.md states."""

    default_code = "unique"
    default_message = "Email already in use."


class NoActiveAccount(Unauthenticated):
    """Wrong credentials, or a token whose user is gone or inactive."""

    default_code = "no_active_account"


class RefreshTokenNotValid(Unauthenticated):
    """A refresh token that is bad, expired or used answers as every service's 401: one plain error."""

    default_code = "token_not_valid"


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """A new active, non-staff user. The password is expected to have passed the validators already.

    The password is hashed before the email is looked up, so that a taken email answers in the time of a
    new one: the answer's timing tells no more than its body (which, as API.md states, says "taken").
    """
    password_hash = make_password(password)
    email = User.objects.normalize_email(email)
    if user_email_taken(email=email):
        raise EmailTaken(field="email")
    user = User(email=email, first_name=first_name, last_name=last_name, password=password_hash)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one address at once: the unique index decides.
        raise EmailTaken(field="email") from exc
    return user


def user_sign_in(*, request: HttpRequest, email: str, password: str) -> User:
    """The active user with these credentials. Raises TooManyAttempts past the account's or the address's
    limit of failures (service_kit.logins), NoActiveAccount for wrong credentials.

    An unknown email costs one password hash too (Django's ModelBackend hashes for a missing user) and
    answers the same error, so neither body nor time tells whether the account exists.
    """
    login_attempt(request=request, identifier=email)
    user = authenticate(request, email=email, password=password)
    if user is None:
        raise NoActiveAccount("No active account found with the given credentials.")
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


def _refresh_token_blacklist(token: RefreshToken) -> bool:
    """Blacklists the token; False when a request (a concurrent one, too) already did.

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
    return created


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotates a refresh token: the old one is blacklisted, the new pair has the user's current claims.

    Raises RefreshTokenNotValid for a bad, expired or used token, NoActiveAccount when its user is gone or
    inactive.
    """
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise RefreshTokenNotValid(str(exc)) from exc
    user = user_get_active(user_id=token.get(api_settings.USER_ID_CLAIM, ""))
    if user is None:
        raise NoActiveAccount("No active account found for the given token.")
    # The old token is spent only if the new pair is recorded too.
    with transaction.atomic():
        if not _refresh_token_blacklist(token):
            raise RefreshTokenNotValid(TOKEN_BLACKLISTED)
        return token_pair_issue(user=user)


def token_revoke(*, refresh: str, user_id: str) -> None:
    """Blacklists a refresh token of the caller. Raises Invalid (on `refresh`) when the token is bad, expired
    or used, Forbidden when it is not theirs."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise Invalid(str(exc), code="token_not_valid", field="refresh") from exc
    if str(token.get(api_settings.USER_ID_CLAIM)) != str(user_id):
        raise Forbidden("This refresh token belongs to another user.")
    if not _refresh_token_blacklist(token):
        raise Invalid(TOKEN_BLACKLISTED, code="token_not_valid", field="refresh")


def token_revoke_any(*, refresh: str) -> None:
    """Blacklists a refresh token whoever holds it: signing a browser out with the cookie it sent. A token
    spent already needs nothing more; a bad one raises TokenError."""
    _refresh_token_blacklist(RefreshToken(refresh))
