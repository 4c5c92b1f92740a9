"""Output shape of the payments API (API.md): fields listed, money as two-place strings."""

from rest_framework import serializers

from .models import Payment


class PaymentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order_id", "amount", "currency", "status", "created_at"]
        read_only_fields = fields
