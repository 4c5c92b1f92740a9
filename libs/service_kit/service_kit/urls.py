"""The URLs every service mounts: admin, health, schema and docs under its own prefix."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import HealthView, LiveView
from .logins import admin_login


def service_urlpatterns(name: str, api_urls) -> list:
    admin.site.site_header = f"{name}_svc administration"
    admin.site.site_title = f"{name}_svc admin"
    # "View site" leads to the platform's landing page, which links every admin, the docs and Flower.
    admin.site.site_url = "/"
    return [
        # The admin's own login view, throttled like the API's sign-in.
        path(f"admin/{name}/login/", admin_login),
        path(f"admin/{name}/", admin.site.urls),
        path(f"api/{name}/health/", HealthView.as_view(), name="health"),
        path(f"api/{name}/health/live/", LiveView.as_view(), name="health-live"),
        path(f"api/{name}/health/ready/", HealthView.as_view(), name="health-ready"),
        path(f"api/{name}/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(f"api/{name}/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
        path(f"api/{name}/", include(api_urls)),
    ]
