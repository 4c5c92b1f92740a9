"""The platform's one sign-in for people's browsers: the access token in a cookie every service reads.

users_svc signs a person in on its page (`SIGNIN_PATH`) and sets two HttpOnly cookies on the gateway's host:
`platform_access`, the same RS256 access token an API client gets (minutes; SameSite=Lax; path /), which
every service verifies with users_svc's public key exactly as a bearer token, and `platform_refresh`, its
refresh token (SameSite=Strict; path `/api/users/session/`, so no other service ever receives it), with
which users_svc renews the access cookie once it has expired (`RENEW_PATH`, visited by a redirect).

No service keeps a session of its own for such a browser: each request is judged by the cookie alone. So
signing out (`SIGNOUT_PATH`, where every admin's "Log out" leads), which revokes the refresh token and
clears both cookies, signs the browser out of every service at once; a changed password revokes the
refresh token, and the access cookie then lasts its few minutes at most.

- API (browsable API, Swagger UI): `CookieJWTAuthentication`, after the bearer one; unsafe methods pass
  Django's CSRF check, as a session would (the browsable API's forms carry the service's CSRF token).
- Admin: `StaffFromCookieMiddleware` makes the cookie's person the admin's user when the token says
  superuser, or staff with a role for this service (service_kit.roles, whose permissions it gives): in
  users_svc the account itself, elsewhere a local user row kept from the token's claims (no password:
  passwords live in users_svc alone).
"""

from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings

from .authentication import JWTAuthentication
from .conf import kit_settings
from .roles import service_role

ACCESS_COOKIE = "platform_access"
REFRESH_COOKIE = "platform_refresh"
SIGNIN_PATH = "/api/users/signin/"
RENEW_PATH = "/api/users/session/renew/"
SIGNOUT_PATH = "/api/users/session/signout/"


def renew_url(target: str) -> str:
    """Where a browser goes for a fresh access cookie (or, without a valid refresh token, to sign in)."""
    return f"{RENEW_PATH}?{urlencode({'next': target})}"


def next_path(request: HttpRequest, *, default: str) -> str:
    """The request's `next` (form or query) when it is a path of this site; never another host."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=False)
    return wanted if allowed and wanted.startswith("/") else default


def sign_in_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Every service's "Log in" (its admin's login page, the browsable API's link): the platform's sign-in,
    through the renewal, so a browser whose refresh cookie is still good comes straight back, signed in;
    a browser signed in as someone who may not open the page goes to the sign-in form."""
    target = next_path(request, default=f"/admin/{kit_settings.SERVICE_NAME}/")
    if verified_cookie(request)[0] is not None:
        # Signed in, yet sent to sign in: that person may not open the page. The sign-in form itself
        # (which says so), never the renewal, which would only send the browser back here.
        return HttpResponseRedirect(f"{SIGNIN_PATH}?{urlencode({'next': target})}")
    return HttpResponseRedirect(renew_url(target))


def sign_out_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Every service's "Log out": the platform's sign-out, which signs the browser out everywhere."""
    return HttpResponseRedirect(SIGNOUT_PATH)


def verified_cookie(request):
    """The request's access cookie as a validated token and its user, or (None, None)."""
    raw = request.COOKIES.get(ACCESS_COOKIE)
    if not raw:
        return None, None
    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw.encode())
        return token, authentication.get_user(token)
    except (AuthenticationFailed, InvalidToken, TokenError):
        return None, None


class CookieJWTAuthentication(JWTAuthentication):
    """The access cookie, verified like a bearer token; an expired or bad cookie is no sign-in (so the
    browsable API answers 401 and offers its "Log in"), not an error of its own."""

    def authenticate(self, request):
        token, user = verified_cookie(request)
        if token is None:
            return None
        # Writes pass Django's CSRF check exactly as DRF's session authentication makes them.
        SessionAuthentication().enforce_csrf(request)
        return user, token


class CookieScheme(OpenApiAuthenticationExtension):
    """Documents the cookie in every service's OpenAPI schema, beside the bearer scheme."""

    target_class = "service_kit.signin.CookieJWTAuthentication"
    name = "platformCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": ACCESS_COOKIE,
            "description": f"Set by the platform's sign-in page ({SIGNIN_PATH}); writes need the CSRF token too.",
        }


def staff_user(token):
    """The admin's user for a staff token that opens this service's admin: a superuser's, or a staff
    person's with a role for this service (service_kit.roles), whose permissions the role then gives
    (`user.service_role`). The account itself where accounts live (a UUID key, users_svc), elsewhere a
    local row named by the account's id, its flags kept equal to the token's claims."""
    is_superuser = bool(token.get("is_superuser"))
    role = service_role(token)
    if not token.get("is_staff") or not (is_superuser or role):
        return None
    user_model = get_user_model()
    user_id = str(token[api_settings.USER_ID_CLAIM])
    if isinstance(user_model._meta.pk, models.UUIDField):
        user = user_model.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    else:
        user = _local_staff_row(user_model, user_id, email=token.get("email", ""), is_superuser=is_superuser)
    if user is None or not user.is_active:
        return None
    user.service_role = role
    return user


def _local_staff_row(user_model, user_id: str, **claims):
    claims = {**claims, "is_staff": True}
    # Made without a password (make_password(None) is Django's unusable one): it signs in here by cookie only.
    user, created = user_model.objects.get_or_create(
        username=user_id, defaults={**claims, "password": make_password(None)}
    )
    if not created and any(getattr(user, name) != value for name, value in claims.items()):
        for name, value in claims.items():
            setattr(user, name, value)
        user.save(update_fields=list(claims))
    return user


class StaffFromCookieMiddleware:
    """In this service's admin, a browser without a session of its own is the cookie's staff person."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = f"/admin/{kit_settings.SERVICE_NAME}/"

    def __call__(self, request):
        if request.path.startswith(self.admin_prefix) and not request.user.is_authenticated:
            token, _ = verified_cookie(request)
            user = staff_user(token) if token is not None else None
            if user is not None:
                request.user = user
        return self.get_response(request)
