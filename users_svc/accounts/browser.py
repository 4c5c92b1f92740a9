"""The platform's sign-in for people's browsers (see service_kit.signin): sign in, renew, sign out.

A person signs in here once; the access cookie set here is read by every service's admin, browsable API and
Swagger UI. The forms are plain Django views (HTML, CSRF-protected), throttled like the token endpoint.
"""

import contextlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_protect
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from service_kit.exceptions import Unauthenticated
from service_kit.logins import TooManyAttempts, retry_after
from service_kit.roles import ROLES_CLAIM
from service_kit.signin import ACCESS_COOKIE, REFRESH_COOKIE, SIGNIN_PATH, next_path, verified_cookie

from .models import User
from .services import token_pair_issue, token_refresh, token_revoke_any, user_sign_in

# The refresh cookie goes to the renewal and sign-out only: no other service, no other path, receives it.
REFRESH_COOKIE_PATH = "/api/users/session/"


def with_cookies(response: HttpResponse, request: HttpRequest, pair: dict[str, str]) -> HttpResponse:
    secure = request.is_secure() or settings.SESSION_COOKIE_SECURE
    response.set_cookie(
        ACCESS_COOKIE,
        pair["access"],
        max_age=int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair["refresh"],
        max_age=int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    return response


def without_cookies(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(ACCESS_COOKIE, samesite="Lax")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, samesite="Strict")
    return response


@method_decorator(csrf_protect, name="dispatch")
class SignInView(View):
    template_name = "accounts/signin.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        _, signed_in_as = verified_cookie(request)
        return render(
            request, self.template_name, {"next": next_path(request, default="/"), "signed_in_as": signed_in_as}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        email = request.POST.get("email", "")
        context = {"next": next_path(request, default="/"), "email": email}
        try:
            user = user_sign_in(request=request, email=email, password=request.POST.get("password", ""))
        except TooManyAttempts as exc:
            response = render(request, self.template_name, {**context, "error": exc.detail}, status=429)
            response["Retry-After"] = retry_after(exc.wait)
            return response
        except Unauthenticated as exc:
            return render(request, self.template_name, {**context, "error": exc.message}, status=401)
        return with_cookies(HttpResponseRedirect(context["next"]), request, token_pair_issue(user=user))


class RenewView(View):
    """Visited by a redirect when the access cookie has expired: a new pair from the refresh cookie (the
    old refresh token is spent), or the sign-in page when there is none or it was revoked."""

    def get(self, request: HttpRequest) -> HttpResponse:
        target = next_path(request, default="/")
        refresh = request.COOKIES.get(REFRESH_COOKIE)
        if refresh:
            try:
                pair = token_refresh(refresh=refresh)
            except Unauthenticated:
                pass  # bad, expired, spent or revoked, or its account gone: sign in again
            else:
                return with_cookies(HttpResponseRedirect(target), request, pair)
        signin = HttpResponseRedirect(f"{SIGNIN_PATH}?{request.GET.urlencode()}" if target != "/" else SIGNIN_PATH)
        return without_cookies(signin)


class SignOutView(View):
    """Revokes the browser's refresh token and clears both cookies: every service forgets the browser.

    GET signs out too, so that every admin's "Log out" can lead here: being signed out by another site
    is a nuisance, never a way in."""

    template_name = "accounts/signed_out.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        refresh = request.COOKIES.get(REFRESH_COOKIE)
        if refresh:
            # A token already spent or expired leaves nothing to revoke.
            with contextlib.suppress(TokenError):
                token_revoke_any(refresh=refresh)
        return without_cookies(render(request, self.template_name))

    post = get


class StaffCheckView(View):
    """nginx's `auth_request` for the operators' pages it serves itself (/prometheus/): 204 for a signed-in
    operator's cookie (an active staff account that is a superuser or has a role in any service), 401 without a
    valid cookie (nginx sends the browser to sign in), 403 for anyone else."""

    def get(self, request: HttpRequest) -> HttpResponse:
        token, _ = verified_cookie(request)
        if token is None:
            return HttpResponse(status=401)
        operator = token.get("is_staff") and (token.get("is_superuser") or token.get(ROLES_CLAIM))
        active = User.objects.filter(pk=token[api_settings.USER_ID_CLAIM], is_active=True, is_staff=True).exists()
        return HttpResponse(status=204 if operator and active else 403)
