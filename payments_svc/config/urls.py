from django.urls import include, path
from service_kit.urls import *  # handler400, 403, 404, 500: errors in the envelope
from service_kit.urls import service_urlpatterns

urlpatterns = [
    *service_urlpatterns("payments", "payments.urls"),
    # Service clients only (scope reconcile:read); nginx does not route /internal/.
    path("internal/payments/", include("payments.internal_urls")),
]
