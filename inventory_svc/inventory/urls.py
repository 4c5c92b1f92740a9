"""Routes of /api/inventory/."""

from django.urls import re_path

from .apis import ProductDetailApi, ProductListCreateApi, ProductRestockApi

# Only well-formed SKUs reach the views; anything else (NUL bytes included) is a plain 404.
SKU = r"(?P<sku>[A-Z0-9][A-Z0-9-]{0,63})"

urlpatterns = [
    re_path(r"^products/$", ProductListCreateApi.as_view(), name="product-list"),
    re_path(rf"^products/{SKU}/$", ProductDetailApi.as_view(), name="product-detail"),
    re_path(rf"^products/{SKU}/restock/$", ProductRestockApi.as_view(), name="product-restock"),
]
