"""Routes of the payments API, mounted at /api/payments/."""

from django.urls import path

from .apis import PaymentDetailApi, PaymentListApi

app_name = "payments"

urlpatterns = [
    path("", PaymentListApi.as_view(), name="payment-list"),
    path("<uuid:payment_id>/", PaymentDetailApi.as_view(), name="payment-detail"),
]
