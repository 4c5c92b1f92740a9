"""Payloads of the messages payments_svc receives, checked before any handler acts on them."""

from decimal import Decimal

from rest_framework import serializers


class ChargePayload(serializers.Serializer):
    order_id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.CharField(min_length=3, max_length=3)
    payment_method = serializers.CharField(max_length=64)


class RefundPayload(serializers.Serializer):
    order_id = serializers.UUIDField()
