"""Query parameters of the product list."""

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter

from .models import Product


class StrictFilterSet(django_filters.FilterSet):
    """A parameter sent empty is refused like any value outside its choices, not read as "no filter"."""

    def is_valid(self):
        valid = super().is_valid()
        for name, field in self.form.fields.items():
            if self.data.get(name) == "":
                code = "invalid_choice" if "invalid_choice" in field.error_messages else "invalid"
                message = field.error_messages[code]
                self.form.add_error(name, ValidationError(message, code=code, params={"value": ""}))
                valid = False
        return valid


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
