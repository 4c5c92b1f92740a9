"""Route of the client-credentials endpoint, mounted at /api/users/token/service/."""

from django.urls import path

from .apis import ServiceTokenApi

app_name = "service_clients"

urlpatterns = [path("", ServiceTokenApi.as_view(), name="token")]
