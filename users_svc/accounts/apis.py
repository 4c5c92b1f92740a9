"""HTTP views of users_svc: registration, tokens, the caller's profile and the public keys."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse403Serializer, ErrorResponse429Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from service_kit.exceptions import Unauthenticated
from service_kit.logins import registration_attempt

from .keys import public_jwk
from .selectors import user_get_active
from .serializers import (
    WEAK_PASSWORD_CODES,
    AccountErrorResponse401Serializer,
    JWKSSerializer,
    ProfileSerializer,
    RefreshInputSerializer,
    RegisterSerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from .services import (
    token_pair_issue,
    token_refresh,
    token_revoke,
    user_profile_update,
    user_register,
    user_sign_in,
)

# nginx allows each address 5 sign-ins or registrations a second (burst 10); the service limits failed
# sign-ins per account and per address, and registrations per address (service_kit.logins).
THROTTLED = OpenApiResponse(
    ErrorResponse429Serializer,
    description="Too many requests from this address (nginx), or too many failed sign-ins or registrations "
    "(the service); `Retry-After` says when to try again.",
)
UNAUTHENTICATED = OpenApiResponse(AccountErrorResponse401Serializer, description="No valid credentials.")


class BearerChallengeMixin:
    """A failed sign-in on a view without authenticators is still a 401 with a Bearer challenge."""

    def get_authenticate_header(self, request):
        # Without authenticators DRF would turn 401 into 403.
        return 'Bearer realm="api"'


@extend_validation_errors(["unique"], field_name="email", methods=["post"])
@extend_validation_errors(WEAK_PASSWORD_CODES, field_name="password", methods=["post"])
class RegisterApi(generics.GenericAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = RegisterSerializer

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer, 429: THROTTLED})
    def post(self, request):
        registration_attempt(request=request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(BearerChallengeMixin, generics.GenericAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenObtainSerializer

    @extend_schema(
        request=TokenObtainSerializer, responses={200: TokenPairSerializer, 401: UNAUTHENTICATED, 429: THROTTLED}
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_sign_in(request=request, **serializer.validated_data)
        return Response(token_pair_issue(user=user))


class TokenRefreshApi(BearerChallengeMixin, generics.GenericAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = RefreshInputSerializer

    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairSerializer, 401: UNAUTHENTICATED})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(token_refresh(refresh=serializer.validated_data["refresh"]))


@extend_validation_errors(["token_not_valid"], field_name="refresh", methods=["post"])
class TokenRevokeApi(generics.GenericAPIView):
    serializer_class = RefreshInputSerializer

    @extend_schema(
        request=RefreshInputSerializer,
        responses={
            205: None,
            401: UNAUTHENTICATED,
            403: OpenApiResponse(ErrorResponse403Serializer, description="The refresh token is another user's."),
        },
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_revoke(refresh=serializer.validated_data["refresh"], user_id=request.user.id)
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeApi(generics.GenericAPIView):
    serializer_class = ProfileSerializer

    def get_object(self):
        # Tokens outlive accounts: the account must still exist and be active.
        user = user_get_active(user_id=self.request.user.id)
        if user is None:
            raise Unauthenticated("User not found or inactive.", code="user_not_found")
        return user

    @extend_schema(responses={200: ProfileSerializer, 401: UNAUTHENTICATED})
    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ProfileSerializer, responses={200: ProfileSerializer, 401: UNAUTHENTICATED})
    def patch(self, request):
        user = self.get_object()
        serializer = self.get_serializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=user, **serializer.validated_data)
        return Response(self.get_serializer(user).data)


class JWKSApi(generics.GenericAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = JWKSSerializer

    @extend_schema(responses={200: JWKSSerializer})
    def get(self, request):
        return Response({"keys": [public_jwk(settings.SIMPLE_JWT["VERIFYING_KEY"])]})
