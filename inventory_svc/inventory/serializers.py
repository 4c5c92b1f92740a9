"""Input and output shapes of the products API; every field is listed.

Input fields take only the JSON type the schema states: DRF would otherwise read 5 as "5", "5" as 5
and 12.5 as "12.50", accepting what the schema calls invalid."""

import re
from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from service_kit.fields import TextField, WholeNumberField

from .models import Product, sku_validator

MAX_RESTOCK = 1_000_000
# A price as API.md writes money: a positive decimal string, at most 10 digits before the point and 2 after.
PRICE_PATTERN = r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,2})?|0?\.(?:0[1-9]|[1-9][0-9]?))$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": PRICE_PATTERN, "example": "19.99"})
class PriceField(serializers.DecimalField):
    """A positive amount as a string ("19.99"): no number, no exponent, no blank, no sign."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(PRICE_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_serializer(component_name="Product")
class ProductOutputSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "price", "currency", "available"]
        read_only_fields = fields


@extend_schema_serializer(
    component_name="ProductCreate",
    examples=[
        OpenApiExample(
            "A new product with its first stock",
            value={"sku": "MUG-BLUE", "name": "Blue mug", "description": "350 ml", "price": "12.50", "stock": 40},
            request_only=True,
        )
    ],
)
class ProductCreateInputSerializer(serializers.Serializer):
    sku = TextField(max_length=64, validators=[sku_validator])
    name = TextField(max_length=200)
    description = TextField(required=False, allow_blank=True, default="")
    price = PriceField()
    stock = WholeNumberField(min_value=0, max_value=1_000_000_000)


@extend_schema_serializer(component_name="ProductUpdate")
class ProductUpdateInputSerializer(serializers.Serializer):
    """Catalogue fields only. Stock fields and the SKU are refused (400), not silently ignored."""

    name = TextField(max_length=200, required=False)
    description = TextField(required=False, allow_blank=True)
    price = PriceField(required=False)

    refused_fields = {
        "sku": "The SKU of a product cannot change.",
        "on_hand": "Stock changes through restock and orders.",
        "stock": "Stock changes through restock and orders.",
        "reserved": "Stock changes through restock and orders.",
        "available": "Stock changes through restock and orders.",
        "currency": "All prices are in USD.",
    }

    def validate(self, attrs):
        refused = {name: msg for name, msg in self.refused_fields.items() if name in self.initial_data}
        if refused:
            raise serializers.ValidationError(refused)
        return attrs


@extend_schema_serializer(component_name="ProductRestock")
class ProductRestockInputSerializer(serializers.Serializer):
    quantity = WholeNumberField(min_value=1, max_value=MAX_RESTOCK)
