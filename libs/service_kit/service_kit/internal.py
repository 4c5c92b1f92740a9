"""Internal endpoints: what one service asks of another (reconciliation), reached on the services' own
network under /internal/<svc>/, which nginx never routes, with a service token carrying a scope, never
a person's. Each service's endpoints subclass `InternalApi`, a lookup by a list of keys `InternalLookupApi`."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from .authentication import ServiceTokenAuthentication
from .permissions import HasScope

RECONCILE_SCOPE = "reconcile:read"
# The most keys (order ids, SKUs) one lookup takes: a caller sends batches.
MAX_KEYS = 500


class OrderIdsInputSerializer(serializers.Serializer):
    order_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=MAX_KEYS)


@extend_schema(exclude=True)
class InternalApi(generics.GenericAPIView):
    """A service token with the reconciliation scope; left out of the public API schema. A generic view with its
    input as `serializer_class`, as every public view (README, "Layout")."""

    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [HasScope(RECONCILE_SCOPE)]


class InternalLookupApi(InternalApi):
    """POST {<keys>: [...]} (at most MAX_KEYS) -> {results: [...]}: what this service knows of those keys.

    A subclass names its input (`serializer_class`, one list field such as `order_ids`), the selector that
    takes that field as its keyword (`lookup = staticmethod(payments_by_order)`) and `output_serializer_class`.
    """

    output_serializer_class: type[serializers.BaseSerializer]

    def lookup(self, **keys):
        raise NotImplementedError

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = self.lookup(**serializer.validated_data)
        return Response({"results": self.output_serializer_class(rows, many=True).data})
