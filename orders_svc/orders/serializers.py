"""Input and output shapes of the orders API (API.md): fields listed, money as two-place strings.

Input fields take only the JSON type the schema states: DRF would otherwise read 5 as "5" and "5" as 5,
accepting what the schema calls invalid."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers
from service_kit.fields import TextField, WholeNumberField
from service_kit.openapi import error_envelope_serializer

from .models import Order, OrderLine
from .services import MAX_LINE_QUANTITY, PAYMENT_METHODS

MAX_LINES = 50


class OrderLineInputSerializer(serializers.Serializer):
    sku = TextField(max_length=64)
    quantity = WholeNumberField(min_value=1, max_value=MAX_LINE_QUANTITY)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Two demo mugs, paid by a card that succeeds",
            value={"lines": [{"sku": "DEMO-MUG", "quantity": 2}], "payment_method": "pm_card_visa"},
            request_only=True,
        ),
        OpenApiExample(
            "A card that is declined: the order ends cancelled, its stock back",
            value={"lines": [{"sku": "DEMO-POSTER", "quantity": 1}], "payment_method": "pm_card_chargeDeclined"},
            request_only=True,
        ),
    ]
)
class OrderPlaceInputSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=OrderLineInputSerializer(), allow_empty=False, min_length=1, max_length=MAX_LINES
    )
    payment_method = serializers.ChoiceField(choices=PAYMENT_METHODS)

    def validate_lines(self, lines):
        skus = [line["sku"] for line in lines]
        if len(set(skus)) != len(skus):
            raise serializers.ValidationError("Each sku may appear only once in an order.", code="duplicate_sku")
        return lines


class OrderLineOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "quantity", "unit_price"]
        read_only_fields = fields


class OrderOutputSerializer(serializers.ModelSerializer):
    lines = OrderLineOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "status", "lines", "total", "currency", "cancel_reason", "created_at"]
        read_only_fields = fields


IdempotencyKeyReusedResponseSerializer = error_envelope_serializer(
    "IdempotencyKeyReusedErrorResponse", ["idempotency_key_reused"], "The 422 envelope, for the schema."
)
