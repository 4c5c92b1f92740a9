"""The URLs every service mounts: admin, health, schema and docs under its own prefix, and the error views.

A service's `config/urls.py` says `urlpatterns = service_urlpatterns("orders", "orders.urls")` (plus its own)
and `from service_kit.urls import *` for Django's handler400/403/404/500: errors in the JSON envelope.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import HealthView, LiveView
from .metrics import metrics_view
from .signin import sign_in_redirect, sign_out_redirect

__all__ = ["handler400", "handler403", "handler404", "handler500", "service_urlpatterns"]

handler400 = "service_kit.errors.bad_request"
handler403 = "service_kit.errors.permission_denied"
handler404 = "service_kit.errors.page_not_found"
handler500 = "service_kit.errors.server_error"

# The browsable API's "Log in" and "Log out" links (DRF looks them up in this namespace).
browsable_api_sign_in = (
    [path("login/", sign_in_redirect, name="login"), path("logout/", sign_out_redirect, name="logout")],
    "rest_framework",
)


def service_urlpatterns(name: str, api_urls) -> list:
    admin.site.site_header = f"{name}_svc administration"
    admin.site.site_title = f"{name}_svc admin"
    # "View site" leads to the platform's landing page, which links every admin, the docs and Flower.
    admin.site.site_url = "/"
    return [
        # One sign-in for people (service_kit.signin): the admin's login and logout are the platform's.
        path(f"admin/{name}/login/", sign_in_redirect),
        path(f"admin/{name}/logout/", sign_out_redirect),
        path(f"admin/{name}/", admin.site.urls),
        path(f"api/{name}/auth/", include(browsable_api_sign_in)),
        path(f"api/{name}/health/", HealthView.as_view(), name="health"),
        path(f"api/{name}/health/live/", LiveView.as_view(), name="health-live"),
        path(f"api/{name}/health/ready/", HealthView.as_view(), name="health-ready"),
        path(f"api/{name}/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(f"api/{name}/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
        path(f"api/{name}/", include(api_urls)),
        # Prometheus's, on the private web port: nginx routes no such path.
        path("metrics", metrics_view, name="metrics"),
    ]
