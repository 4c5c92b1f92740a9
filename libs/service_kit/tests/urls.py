"""URLs of the kit's test project: the shared ones plus a crashing plain Django view."""

from django.urls import path
from service_kit.urls import service_urlpatterns

from . import views

urlpatterns = [
    path("plain/boom/", views.plain_boom),
    path("plain/database-down/", views.plain_database_down),
    *service_urlpatterns("kit", "tests.api_urls"),
]

handler400 = "service_kit.errors.bad_request"
handler403 = "service_kit.errors.permission_denied"
handler404 = "service_kit.errors.page_not_found"
handler500 = "service_kit.errors.server_error"
