"""The platform's front door, served by users_svc at the gateway's `/` and `/api/docs/`.

The landing page links what people use (each service's admin, the API docs, Flower) and shows the health
of each service as the browser reads it through the gateway; the docs page is one Swagger UI with the
four APIs in its spec selector. A token obtained on that page (users' `token/`) authorizes the requests
of every API there, since all four name their bearer scheme `jwtAuth`.
"""

import json

from django.views.generic import TemplateView
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.response import Response

# The platform's services, in the order a person meets them; each is routed by the gateway under its name.
SERVICES = ["users", "inventory", "orders", "payments"]


class LandingView(TemplateView):
    template_name = "service_kit/landing.html"
    extra_context = {"services": SERVICES}


class PlatformDocsView(SpectacularSwaggerView):
    """drf-spectacular's Swagger UI page, given every service's schema instead of one."""

    title = "Shop platform API"
    template_name_js = "service_kit/platform_docs.js"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs) -> Response:
        response = super().get(request, *args, **kwargs)
        apis = [{"name": name, "url": f"/api/{name}/schema/"} for name in SERVICES]
        response.data["apis"] = json.dumps(apis)
        return response
