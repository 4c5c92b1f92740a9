"""Products API: thin views that parse input, call services and selectors, and shape output.

DRF generics, one class per URL (README, "Layout"); errors are the services' to raise and the kit's
handler's to answer, so no view catches one.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.response import Response
from service_kit.openapi import error_envelope_serializer
from service_kit.permissions import IsStaffOrReadOnly

from . import selectors, services
from .filters import ProductFilter, StableOrderingFilter, TextSearchFilter
from .serializers import (
    ProductCreateInputSerializer,
    ProductOutputSerializer,
    ProductRestockInputSerializer,
    ProductUpdateInputSerializer,
)

# Reads need no token; a token, when sent, is still verified.
PUBLIC_READ = [{"jwtAuth": []}, {}]

ConflictErrorResponseSerializer = error_envelope_serializer("ConflictErrorResponse", ["product_in_use"])


def _product_response(sku: str, status_code: int = status.HTTP_200_OK) -> Response:
    """The product as it is now, with `available` computed by the selector."""
    product = selectors.product_get(sku=sku)
    if product is None:
        raise services.ProductNotFound()
    return Response(ProductOutputSerializer(product).data, status=status_code)


@extend_validation_errors(["unique"], field_name="sku", methods=["post"])
# DRF's search refuses a NUL character, with no attr.
@extend_validation_errors(["null_characters_not_allowed"], field_name=None, methods=["get"])
class ProductListCreateApi(generics.ListAPIView):
    """/api/inventory/products/ serves two operations: GET lists the catalogue (the `product_list` selector)
    to anyone, searched, filtered and sorted; POST creates a product (the `product_create` service), staff only
    (the token's `is_staff`)."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductOutputSerializer
    filter_backends = [DjangoFilterBackend, TextSearchFilter, StableOrderingFilter]
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "description"]
    ordering_fields = ["price", "name", "sku"]
    ordering = ["sku"]

    def get_queryset(self):
        return selectors.product_list()

    @extend_schema(auth=PUBLIC_READ)
    def get(self, request):
        return super().get(request)

    @extend_schema(request=ProductCreateInputSerializer, responses={201: ProductOutputSerializer})
    def post(self, request):
        serializer = ProductCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return _product_response(product.sku, status.HTTP_201_CREATED)


class ProductDetailApi(generics.GenericAPIView):
    """One product: anyone reads it; staff changes (PATCH) or deletes it."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductOutputSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(auth=PUBLIC_READ)
    def get(self, request, sku: str):
        return _product_response(sku)

    @extend_schema(request=ProductUpdateInputSerializer, responses={200: ProductOutputSerializer})
    def patch(self, request, sku: str):
        serializer = ProductUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.product_update(sku=sku, **serializer.validated_data)
        return _product_response(sku)

    @extend_schema(responses={204: None, 409: ConflictErrorResponseSerializer})
    def delete(self, request, sku: str):
        services.product_delete(sku=sku)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["stock_ceiling"], field_name="quantity", methods=["post"])
class ProductRestockApi(generics.GenericAPIView):
    """Staff adds units to a product's stock on hand (the `product_stock_add` service)."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductRestockInputSerializer

    @extend_schema(request=ProductRestockInputSerializer, responses={200: ProductOutputSerializer})
    def post(self, request, sku: str):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.product_stock_add(sku=sku, **serializer.validated_data)
        return _product_response(sku)
