"""Routes of the orders API, mounted at /api/orders/."""

from django.urls import path

from .apis import OrderCancelApi, OrderDetailApi, OrderListApi

app_name = "orders"

urlpatterns = [
    path("", OrderListApi.as_view(), name="order-list"),
    path("<uuid:order_id>/", OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
]
