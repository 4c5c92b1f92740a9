from django.urls import include, path
from service_kit.urls import service_urlpatterns

urlpatterns = [
    *service_urlpatterns("payments", "payments.urls"),
    # Service clients only (scope reconcile:read); nginx does not route /internal/.
    path("internal/payments/", include("payments.internal_urls")),
]

handler400 = "service_kit.errors.bad_request"
handler403 = "service_kit.errors.permission_denied"
handler404 = "service_kit.errors.page_not_found"
handler500 = "service_kit.errors.server_error"
