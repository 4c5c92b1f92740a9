"""POST /api/users/token/service/: a service client's credentials for a short-lived scoped access token."""

from accounts.apis import THROTTLED, BearerChallengeMixin
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .serializers import (
    ServiceTokenErrorResponse401Serializer,
    ServiceTokenInputSerializer,
    ServiceTokenOutputSerializer,
)
from .services import service_token_issue


@extend_validation_errors(["invalid_scope"], field_name="scope", methods=["post"])
class ServiceTokenApi(BearerChallengeMixin, generics.GenericAPIView):
    """OAuth2 client credentials: `grant_type=client_credentials`, `client_id`, `client_secret`, `scope?`.

    The token names the client (`sub`), carries `scope` and no user: people's endpoints refuse it.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    # OAuth2 clients send a form; JSON as everywhere else on the platform.
    parser_classes = [JSONParser, FormParser]
    serializer_class = ServiceTokenInputSerializer

    @extend_schema(
        request=ServiceTokenInputSerializer,
        responses={
            200: ServiceTokenOutputSerializer,
            401: OpenApiResponse(ServiceTokenErrorResponse401Serializer, description="Client authentication failed."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issued = service_token_issue(
            client_id=data["client_id"], client_secret=data["client_secret"], scope=data.get("scope")
        )
        body = {"access_token": issued.access_token, "expires_in": issued.expires_in, "scope": issued.scope}
        return Response(ServiceTokenOutputSerializer(body).data, headers={"Cache-Control": "no-store"})
