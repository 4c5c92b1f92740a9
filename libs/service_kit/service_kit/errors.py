"""The error envelope of API.md for responses made outside DRF views (unknown routes, crashes)."""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework import status
from rest_framework.exceptions import APIException


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body larger than 1 MB."
    default_code = "request_too_large"


class ExceptionHandler(StandardizedExceptionHandler):
    """drf-standardized-errors, plus Django's own "body too big" as a 413 rather than a 500."""

    def convert_known_exceptions(self, exc):
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        return super().convert_known_exceptions(exc)


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
