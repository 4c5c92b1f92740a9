"""The error envelope of API.md: for responses made outside DRF views (unknown routes, crashes), and
as the OpenAPI schemas document it."""

import re

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from drf_standardized_errors import openapi
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.settings import package_settings
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings

from .pagination import PageNumberPagination


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


class ExceptionHandler(StandardizedExceptionHandler):
    """drf-standardized-errors, plus Django's "body too big" as a 413 and a database outage as a 503."""

    def convert_known_exceptions(self, exc):
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, DATABASE_DOWN):
            return DatabaseUnavailable()
        return super().convert_known_exceptions(exc)


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


# SCHEMA

# What JWTAuthentication answers with a 401: no token, a malformed header, a bad or expired token.
AUTHENTICATION_ERROR_CODES = ("authentication_failed", "not_authenticated", "token_not_valid")


class Error401Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(code, code) for code in AUTHENTICATION_ERROR_CODES])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse401Serializer(serializers.Serializer):
    """The 401 envelope with every code the service's authentication gives (DRF's two, and simplejwt's)."""

    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error401Serializer(many=True)


class AutoSchema(openapi.AutoSchema):
    """drf-standardized-errors' schema, plus the 400 of a paginated list given a bad `?page_size=`."""

    def _get_extra_validation_errors(self):
        errors = super()._get_extra_validation_errors()
        paginator = self._get_paginator()
        if self._is_list_view() and isinstance(paginator, PageNumberPagination):
            errors = {**errors, paginator.page_size_query_param: {"invalid"}}
        return errors


def _attr_pattern(name: str, placeholder: str) -> str:
    """The regular expression of the `attr`s a documented name stands for."""
    item_errors = f"{package_settings.NESTED_FIELD_SEPARATOR}{api_settings.NON_FIELD_ERRORS_KEY}"
    optional = ""
    if name.endswith(f"{placeholder}{item_errors}"):
        # The error of a null item is on the item itself ("lines.5"), documented as its non-field errors.
        name, optional = name.removesuffix(item_errors), f"(?:{re.escape(item_errors)})?"
    return re.escape(name).replace(placeholder, "[0-9]+") + optional


def postprocess_list_indices(result, generator, request, public):
    """The `attr` of an error in a list item names its index ("lines.0.sku"), where drf-standardized-errors
    documents a placeholder ("lines.INDEX.sku"): a pattern matching the real names replaces it, and the
    discriminator keyed on the placeholder goes."""
    placeholder = package_settings.LIST_INDEX_IN_API_SCHEMA
    for component in result.get("components", {}).get("schemas", {}).values():
        attr = component.get("properties", {}).get("attr", {})
        names = attr.get("enum", [])
        if names and all(isinstance(name, str) for name in names) and any(placeholder in name for name in names):
            del attr["enum"]
            attr["pattern"] = f"^(?:{'|'.join(_attr_pattern(name, placeholder) for name in names)})$"
        mapping = component.get("discriminator", {}).get("mapping", {})
        if any(placeholder in str(name) for name in mapping):
            del component["discriminator"]
    return result
