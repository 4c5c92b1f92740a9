"""Input and output shapes of the products API; every field is listed."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from .models import Product, sku_validator

MAX_RESTOCK = 1_000_000


@extend_schema_serializer(component_name="Product")
class ProductOutputSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "price", "currency", "available"]
        read_only_fields = fields


@extend_schema_serializer(component_name="ProductCreate")
class ProductCreateInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, validators=[sku_validator])
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    stock = serializers.IntegerField(min_value=0, max_value=1_000_000_000)


@extend_schema_serializer(component_name="ProductUpdate")
class ProductUpdateInputSerializer(serializers.Serializer):
    """Catalogue fields only. Stock fields and the SKU are refused (400), not silently ignored."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False)

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
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_RESTOCK)
