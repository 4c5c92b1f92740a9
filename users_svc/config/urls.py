from accounts.browser import RenewView, SignInView, SignOutView, StaffCheckView
from django.urls import include, path
from service_kit.front_door import LandingView, PlatformDocsView
from service_kit.urls import *  # handler400, 403, 404, 500: errors in the envelope
from service_kit.urls import service_urlpatterns

urlpatterns = [
    # The platform's front door: the gateway routes `/` and `/api/docs/` here.
    path("", LandingView.as_view(), name="landing"),
    path("api/docs/", PlatformDocsView.as_view(), name="platform-docs"),
    # The one sign-in for people's browsers (service_kit.signin).
    path("api/users/signin/", SignInView.as_view(), name="signin"),
    path("api/users/session/renew/", RenewView.as_view(), name="session-renew"),
    path("api/users/session/signout/", SignOutView.as_view(), name="session-signout"),
    path("api/users/session/staff/", StaffCheckView.as_view(), name="session-staff"),
    # Client credentials for service clients: a module of its own, beside the people's token endpoints.
    path("api/users/token/service/", include("service_clients.urls")),
    *service_urlpatterns("users", "accounts.urls"),
]
