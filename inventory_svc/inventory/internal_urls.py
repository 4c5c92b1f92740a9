"""Routes of /internal/inventory/: never routed by nginx, for service clients only."""

from django.urls import path

from .internal_apis import ReservationLookupInternalApi, StockLedgerInternalApi

app_name = "inventory_internal"

urlpatterns = [
    path("reservations/lookup/", ReservationLookupInternalApi.as_view(), name="reservation-lookup"),
    path("stock/lookup/", StockLedgerInternalApi.as_view(), name="stock-lookup"),
]
