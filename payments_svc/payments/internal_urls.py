"""Routes of /internal/payments/: never routed by nginx, for service clients only."""

from django.urls import path

from .internal_apis import PaymentLookupInternalApi

app_name = "payments_internal"

urlpatterns = [path("lookup/", PaymentLookupInternalApi.as_view(), name="payment-lookup")]
