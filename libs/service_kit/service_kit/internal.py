"""Internal endpoints: what one service asks of another (reconciliation), reached on the services' own
network under /internal/<svc>/, which nginx never routes, with a service token carrying a scope, never
a person's. Each service's endpoints subclass `InternalApi`."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

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
