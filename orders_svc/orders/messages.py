"""Payloads of the messages orders_svc receives, checked before any handler acts on them."""

from rest_framework import serializers

from .models import CancelReason


class PricedLinePayload(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class StockReservedPayload(serializers.Serializer):
    order_id = serializers.UUIDField()
    lines = PricedLinePayload(many=True, allow_empty=False)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.CharField(min_length=3, max_length=3)


class StockRejectedPayload(serializers.Serializer):
    order_id = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=[CancelReason.OUT_OF_STOCK, CancelReason.UNKNOWN_PRODUCT])
    skus = serializers.ListField(child=serializers.CharField(), required=False)


class PaymentSucceededPayload(serializers.Serializer):
    order_id = serializers.UUIDField()
    payment_id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class PaymentDeclinedPayload(serializers.Serializer):
    order_id = serializers.UUIDField()
    payment_id = serializers.UUIDField()
    decline_code = serializers.CharField(allow_blank=True, required=False)
