"""Products API: thin views that parse input, call services and selectors, and shape output."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
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


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class ConflictErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ConflictErrorResponseSerializer(serializers.Serializer):
    type = serializers.CharField()
    errors = ConflictErrorSerializer(many=True)


class ServiceErrorsMixin:
    """Turns the services' exceptions into DRF's, so they reach the client in the error envelope."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
        elif isinstance(exc, ObjectDoesNotExist):
            exc = exceptions.NotFound()
        elif isinstance(exc, services.ProductInUseError):
            exc = Conflict(detail=str(exc), code="product_in_use")
        return super().handle_exception(exc)


@extend_validation_errors(["unique"], field_name="sku", actions=["create"])
@extend_validation_errors(["stock_ceiling"], field_name="quantity", actions=["restock"])
# DRF's search refuses a NUL character, with no attr.
@extend_validation_errors(["null_characters_not_allowed"], field_name=None, actions=["list"])
class ProductViewSet(ServiceErrorsMixin, viewsets.GenericViewSet):
    """Anyone reads the catalogue; staff (the token's `is_staff`) changes it."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductOutputSerializer
    lookup_field = "sku"
    # Only well-formed SKUs reach the views; anything else (NUL bytes included) is a plain 404.
    lookup_value_regex = "[A-Z0-9][A-Z0-9-]{0,63}"
    filter_backends = [DjangoFilterBackend, TextSearchFilter, StableOrderingFilter]
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "description"]
    ordering_fields = ["price", "name", "sku"]
    ordering = ["sku"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.product_list()

    def _product_response(self, sku: str, status_code: int = status.HTTP_200_OK) -> Response:
        product = selectors.product_get(sku=sku)
        if product is None:
            raise exceptions.NotFound()
        return Response(ProductOutputSerializer(product).data, status=status_code)

    @extend_schema(auth=PUBLIC_READ)
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProductOutputSerializer(page, many=True).data)

    @extend_schema(auth=PUBLIC_READ)
    def retrieve(self, request, sku: str):
        return self._product_response(sku)

    @extend_schema(request=ProductCreateInputSerializer, responses={201: ProductOutputSerializer})
    def create(self, request):
        serializer = ProductCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return self._product_response(product.sku, status.HTTP_201_CREATED)

    @extend_schema(request=ProductUpdateInputSerializer, responses={200: ProductOutputSerializer})
    def partial_update(self, request, sku: str):
        serializer = ProductUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.product_update(sku=sku, **serializer.validated_data)
        return self._product_response(sku)

    @extend_schema(responses={204: None, 409: ConflictErrorResponseSerializer})
    def destroy(self, request, sku: str):
        services.product_delete(sku=sku)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ProductRestockInputSerializer, responses={200: ProductOutputSerializer})
    @action(detail=True, methods=["post"])
    def restock(self, request, sku: str):
        serializer = ProductRestockInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.product_restock(sku=sku, **serializer.validated_data)
        return self._product_response(sku)
