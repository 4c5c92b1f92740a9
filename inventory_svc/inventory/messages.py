"""Payloads of the messages inventory_svc receives, checked before any handler acts on them."""

from rest_framework import serializers

MAX_LINES = 50
MAX_LINE_QUANTITY = 1000


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "5", 5.0 or true in a message is a producer's bug, not a quantity."""

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReserveLinePayload(serializers.Serializer):
    # Any string is accepted as a SKU: one that is no product is answered with unknown_product.
    sku = serializers.CharField(max_length=64, trim_whitespace=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class ReservePayload(serializers.Serializer):
    order_id = serializers.UUIDField()
    lines = ReserveLinePayload(many=True, allow_empty=False, max_length=MAX_LINES)


class OrderPayload(serializers.Serializer):
    """inventory.commit, inventory.release and inventory.restock carry the order id only."""

    order_id = serializers.UUIDField()
