"""Query parameters of the product list."""

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter, SearchFilter
from service_kit.filters import StrictFilterSet

from .models import Product


class ProductFilter(StrictFilterSet):
    # A choice rather than BooleanFilter, which silently ignores values it cannot read.
    in_stock = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        method="filter_in_stock",
        label="true: only products with units available.",
    )

    class Meta:
        model = Product
        fields = ["in_stock"]

    @extend_schema_field({"type": "boolean", "description": "true: only products with units available."})
    def filter_in_stock(self, queryset, name, value):
        if value:
            return queryset.filter(available_quantity__gt=0)
        return queryset.filter(available_quantity__lte=0)


class StableOrderingFilter(OrderingFilter):
    """Ordering that ends with the SKU, so that pages of equal prices or names never overlap."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"sku", "-sku"} & set(ordering):
            ordering = [*ordering, "sku"]
        return ordering


class TextSearchFilter(SearchFilter):
    """DRF's search, whose schema also says what it refuses: a NUL character (a 400)."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["pattern"] = r"^[^\x00]*$"
        return parameters
