"""HTTP views of orders: parse the request, call a selector or service, shape the answer.

DRF generics, one class per URL (README, "Layout"); errors are the services' to raise and the kit's
handler's to answer, so no view catches one.
"""

import logging

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from .filters import OrderFilter
from .models import Order
from .selectors import order_get, order_list
from .serializers import IdempotencyKeyReusedResponseSerializer, OrderOutputSerializer, OrderPlaceInputSerializer
from .services import order_cancel, order_place

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class OrderPlaceThrottle(UserRateThrottle):
    """Per-user limit on placing orders, counted in the shared cache (Redis) across web workers."""

    scope = "orders"

    def get_rate(self):
        # Read per request rather than at import, so a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache is down: placing orders matters more than the limit
            logger.warning("rate limit not checked", extra={"error": repr(exc)})
            return True


def _idempotency_key(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise serializers.ValidationError(
            {IDEMPOTENCY_KEY_HEADER: [f"Give 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters."]}, code="invalid"
        )
    return key


@extend_validation_errors(["duplicate_sku", "invalid"], field_name="lines", methods=["post"])
@extend_validation_errors(["invalid"], field_name=IDEMPOTENCY_KEY_HEADER, methods=["post"])
class OrderListPlaceApi(generics.ListAPIView):
    """/api/orders/ serves two operations: GET lists the caller's orders (the `order_list` selector), newest
    first (staff: every order), `?status=` narrowing them; POST places one (the `order_place` service)."""

    serializer_class = OrderOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter

    def get_throttles(self):
        if self.request is not None and self.request.method == "POST":
            return [OrderPlaceThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Order.objects.none()
        return order_list(user=self.request.user)

    @extend_schema(
        request=OrderPlaceInputSerializer,
        responses={
            201: OrderOutputSerializer,
            422: OpenApiResponse(IdempotencyKeyReusedResponseSerializer, description="Idempotency-Key reused"),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                # Not blank: at least one character that is not white space.
                {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH, "pattern": r"\S"},
                OpenApiParameter.HEADER,
                description="Same key and body within 24 h returns the first order instead of placing another.",
                examples=[OpenApiExample("A key the client made for this order", value="my-first-order")],
            )
        ],
    )
    def post(self, request):
        """Place an order: stored pending at once, then reserved, charged and confirmed by the saga."""
        serializer = OrderPlaceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        idempotency_key = _idempotency_key(request)
        order, created = order_place(
            user_id=request.user.id,
            lines=serializer.validated_data["lines"],
            payment_method=serializer.validated_data["payment_method"],
            idempotency_key=idempotency_key,
            correlation_id=request.request_id,
        )
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers)


class OrderDetailApi(generics.RetrieveAPIView):
    """One order of the caller (staff: any); someone else's answers 404."""

    serializer_class = OrderOutputSerializer

    def get_object(self):
        return order_get(order_id=self.kwargs["order_id"], user=self.request.user)


class OrderCancelApi(generics.GenericAPIView):
    """Cancel an order of the caller (staff: any); a paid one is refunded and its stock returned."""

    serializer_class = OrderOutputSerializer

    def get_object(self):
        return order_get(order_id=self.kwargs["order_id"], user=self.request.user)

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    def post(self, request, order_id):
        order = order_cancel(order_id=self.get_object().id)
        return Response(self.get_serializer(order).data)
