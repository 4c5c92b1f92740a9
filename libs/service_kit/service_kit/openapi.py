"""The OpenAPI schema of every service: the error envelopes it documents, and the hooks that keep it true."""

import re
from collections.abc import Iterable

from drf_standardized_errors import openapi
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.settings import package_settings
from rest_framework import serializers
from rest_framework.settings import api_settings

from .pagination import PageNumberPagination

# What JWTAuthentication answers with a 401: no token, a malformed header, a bad or expired token.
AUTHENTICATION_ERROR_CODES = ("authentication_failed", "not_authenticated", "token_not_valid")


def error_envelope_serializer(name: str, codes: Iterable[str], doc: str = "") -> type[serializers.Serializer]:
    """The serializer documenting a `client_error` envelope whose errors carry one of `codes`.

    `name` ends in "ErrorResponse..." ("ConflictErrorResponse"): it names the envelope's schema component,
    and without "Response" its error item's ("ConflictError").
    """
    choices = [(code, code) for code in codes]
    error = type(
        f"{name.replace('Response', '')}Serializer",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "code": serializers.ChoiceField(choices=choices),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__doc__": doc or None,
            "type": serializers.ChoiceField(choices=ClientErrorEnum.choices),
            "errors": error(many=True),
        },
    )


ErrorResponse401Serializer = error_envelope_serializer(
    "ErrorResponse401",
    AUTHENTICATION_ERROR_CODES,
    "The 401 envelope with every code the service's authentication gives (DRF's two, and simplejwt's).",
)


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
