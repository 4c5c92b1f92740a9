"""Routes of the orders API, mounted at /api/orders/."""

from django.urls import path

from .apis import OrderCancelApi, OrderDetailApi, OrderListPlaceApi

app_name = "orders"

urlpatterns = [
    path("", OrderListPlaceApi.as_view(), name="order-list"),
    path("<uuid:order_id>/", OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
]
