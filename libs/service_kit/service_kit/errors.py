"""The error envelope of API.md: one exception handler for every DRF view, and Django's error views for
the rest (unknown routes, crashes).

Services raise the platform's own errors (`service_kit.exceptions`); views never catch them. The handler
alone turns those, Django's (Http404, PermissionDenied, ValidationError) and DRF's into the envelope,
as HackSoft's Django-Styleguide-Example does in `api/exception_handlers.py`; drf-standardized-errors
formats it.
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import APIException, ErrorDetail
from rest_framework.settings import api_settings

from .exceptions import Invalid, ServiceError, Unauthenticated


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body larger than 1 MB."
    default_code = "request_too_large"


class DatabaseUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service's database is unavailable; try again shortly."
    default_code = "service_unavailable"


# A database that is down or restarting: the service answers 503, not a crash.
DATABASE_DOWN = (OperationalError, InterfaceError)


def _validation_error(exc: Invalid) -> exceptions.ValidationError:
    """DRF's ValidationError for an Invalid: its message on `field` (none: on the request), and its `details`."""
    errors = {
        field: [ErrorDetail(message, exc.code) for message in messages] for field, messages in exc.details.items()
    }
    if exc.field is None and not errors:
        return exceptions.ValidationError([ErrorDetail(exc.message, exc.code)])
    errors.setdefault(exc.field or api_settings.NON_FIELD_ERRORS_KEY, []).insert(0, ErrorDetail(exc.message, exc.code))
    return exceptions.ValidationError(errors)


class ExceptionHandler(StandardizedExceptionHandler):
    """drf-standardized-errors, plus the platform's own errors, Django's ValidationError, Django's "body
    too big" as a 413 and a database outage as a 503."""

    def convert_known_exceptions(self, exc):
        if isinstance(exc, ServiceError):
            return self.convert_service_error(exc)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, DATABASE_DOWN):
            return DatabaseUnavailable()
        return super().convert_known_exceptions(exc)

    def convert_service_error(self, exc: ServiceError) -> APIException:
        if isinstance(exc, Invalid):
            return _validation_error(exc)
        converted = APIException(detail=exc.message, code=exc.code)
        converted.status_code = exc.status_code
        if isinstance(exc, Unauthenticated):
            # As DRF's own views do: a 401 names its scheme, and without one it is a 403.
            view, request = self.context.get("view"), self.context.get("request")
            header = view.get_authenticate_header(request) if view is not None else None
            if header:
                converted.auth_header = header
            else:
                converted.status_code = status.HTTP_403_FORBIDDEN
        return converted


class DatabaseUnavailableMiddleware:
    """The same 503 envelope for views outside DRF (the admin) when the database is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN):
            body = error_body("server_error", DatabaseUnavailable.default_code, str(DatabaseUnavailable.default_detail))
            return JsonResponse(body, status=503)
        return None


def error_body(error_type: str, code: str, detail: str, attr: str | None = None) -> dict:
    return {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def page_not_found(request, exception=None):
    return JsonResponse(error_body("client_error", "not_found", "Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body("server_error", "error", "A server error occurred."), status=500)


def bad_request(request, exception=None):
    return JsonResponse(error_body("client_error", "bad_request", "Bad request."), status=400)


def permission_denied(request, exception=None):
    detail = "You do not have permission to perform this action."
    return JsonResponse(error_body("client_error", "permission_denied", detail), status=403)
