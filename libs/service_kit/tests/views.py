"""Views that exercise the kit's defaults: authentication, permissions, pagination, logging, errors."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import Http404
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from service_kit import exceptions
from service_kit.authentication import ServiceTokenAuthentication
from service_kit.permissions import HasScope, IsStaffOrReadOnly

logger = logging.getLogger("tests.views")

NUMBER_COUNT = 250


class IdentitySerializer(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    is_staff = serializers.BooleanField()


class WhoAmIView(generics.GenericAPIView):
    """The caller as the default (token) authentication sees it."""

    serializer_class = IdentitySerializer

    def get(self, request):
        user = request.user
        return Response(self.get_serializer({"id": user.id, "email": user.email, "is_staff": user.is_staff}).data)


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=100)


class NoteView(generics.GenericAPIView):
    """Anyone reads; only staff writes."""

    permission_classes = [IsStaffOrReadOnly]
    serializer_class = NoteSerializer

    def get(self, request):
        return Response(self.get_serializer({"text": "hello"}).data)

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data, status=201)


class NumberSerializer(serializers.Serializer):
    value = serializers.IntegerField()


class NumberListView(generics.ListAPIView):
    """A paginated list over in-memory data, so pagination is tested without a model."""

    permission_classes = [AllowAny]
    serializer_class = NumberSerializer
    filter_backends = []

    def get_queryset(self):
        return [{"value": value} for value in range(NUMBER_COUNT)]


class LogView(generics.GenericAPIView):
    """Writes one log line while handling the request."""

    permission_classes = [AllowAny]
    serializer_class = NoteSerializer

    def get(self, request):
        logger.info("log view called")
        return Response(self.get_serializer({"text": "logged"}).data)


class BoomView(generics.GenericAPIView):
    """Crashes inside DRF."""

    permission_classes = [AllowAny]
    serializer_class = NoteSerializer

    def get(self, request):
        raise RuntimeError("boom")


def plain_boom(request):
    """Crashes outside DRF, so Django's handler500 answers."""
    raise RuntimeError("plain boom")


class DatabaseDownView(generics.GenericAPIView):
    """Meets a database that does not answer, inside DRF."""

    permission_classes = [AllowAny]
    serializer_class = NoteSerializer

    def get(self, request):
        raise OperationalError("connection refused")


def plain_database_down(request):
    """Meets a database that does not answer, outside DRF (as the admin would)."""
    raise OperationalError("connection refused")


class ScopedView(generics.GenericAPIView):
    """An internal endpoint: service clients with scope `kit:read` only."""

    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [HasScope("kit:read")]
    serializer_class = NoteSerializer

    def get(self, request):
        return Response({"client": request.user.client_id, "scopes": sorted(request.user.scopes)})


# What a service may raise, by name: the kit's handler alone turns each into the envelope.
REFUSALS = {
    "invalid-field": lambda: exceptions.Invalid("Too long.", code="too_long", field="text"),
    "invalid-fields": lambda: exceptions.Invalid(
        "Too long.", code="too_long", field="text", details={"title": ["Too long."]}
    ),
    "invalid-request": lambda: exceptions.Invalid("Not today."),
    "unauthenticated": lambda: exceptions.Unauthenticated("Gone.", code="user_not_found"),
    "forbidden": lambda: exceptions.Forbidden(),
    "not-found": lambda: exceptions.NotFound(),
    "conflict": lambda: exceptions.Conflict("In use.", code="in_use"),
    "unprocessable": lambda: exceptions.Unprocessable("Key reused.", code="key_reused"),
    "django-validation": lambda: ValidationError({"text": ValidationError("Bad text.", code="bad_text")}),
    "django-404": lambda: Http404("no such note"),
    "django-permission": lambda: PermissionDenied("not yours"),
}


class RefusalView(generics.GenericAPIView):
    """Raises the error named in the URL, as a service would, and catches nothing."""

    permission_classes = [AllowAny]
    serializer_class = NoteSerializer

    def get(self, request, kind):
        raise REFUSALS[kind]()
