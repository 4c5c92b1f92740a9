"""The OpenAPI schema of every service: the error envelopes it documents, and the hooks that keep it true."""

import re
from collections.abc import Iterable
from http import HTTPStatus

from drf_standardized_errors import openapi
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum, ValidationErrorEnum
from drf_standardized_errors.settings import package_settings
from rest_framework import serializers
from rest_framework.settings import api_settings

from .pagination import PageNumberPagination

# What JWTAuthentication answers with a 401: no token, a bad or expired token, and a header that is not
# "Bearer <token>" (simplejwt's `bad_authorization_header`: "Bearer" alone, or three parts).
AUTHENTICATION_ERROR_CODES = (
    "authentication_failed",
    "bad_authorization_header",
    "not_authenticated",
    "token_not_valid",
)


def error_envelope_serializer(
    name: str, codes: Iterable[str], doc: str = "", *, error_types=ClientErrorEnum
) -> type[serializers.Serializer]:
    """The serializer documenting a `client_error` (or `error_types`) envelope whose errors carry one of `codes`.

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
            "type": serializers.ChoiceField(choices=error_types.choices),
            "errors": error(many=True),
        },
    )


ErrorResponse401Serializer = error_envelope_serializer(
    "ErrorResponse401",
    AUTHENTICATION_ERROR_CODES,
    "The 401 envelope with every code the service's authentication gives (DRF's two, and simplejwt's two).",
)
ErrorResponse503Serializer = error_envelope_serializer(
    "ErrorResponse503",
    ["service_unavailable"],
    "The service's database is down or restarting (service_kit.errors.DatabaseUnavailable): try again shortly.",
    error_types=ServerErrorEnum,
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


# The one component every error response of every service refers to (the envelope of API.md).
ERROR_COMPONENT = "ErrorResponse"
_COMPONENT_REF = "#/components/schemas/"


def error_envelope_schema() -> dict:
    """The platform's error envelope as one JSON Schema: what every error response of every service shares."""
    types = [*ValidationErrorEnum.values, *ClientErrorEnum.values, *ServerErrorEnum.values]
    return {
        "type": "object",
        "description": (
            "The platform's one error envelope, of every service and of the gateway. Each error response of an "
            "operation narrows it to the `type`s, `code`s and `attr`s that operation answers with that status."
        ),
        "properties": {
            "type": {"type": "string", "enum": types},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "description": "What went wrong, for programs."},
                        "detail": {"type": "string", "description": "What went wrong, for people."},
                        "attr": {
                            "type": "string",
                            "nullable": True,
                            "description": 'The field it is about ("lines.0.sku" in a list), or null.',
                        },
                    },
                    "required": ["code", "detail", "attr"],
                },
            },
        },
        "required": ["type", "errors"],
    }


def _resolved(schema: dict, components: dict) -> dict:
    """`schema` with every reference to a component replaced by the component itself (error schemas hold no cycle)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolved(components[schema["$ref"].removeprefix(_COMPONENT_REF)], components)
        return {key: _resolved(value, components) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolved(item, components) for item in schema]
    return schema


def _narrowed(schema: dict, keys: tuple[str, ...]) -> dict:
    """Of a resolved property, what it restricts beyond the shared envelope (its `enum` or `pattern`)."""
    return {key: schema[key] for key in keys if key in schema}


def _error_narrowing(item: dict) -> dict:
    if "oneOf" in item:
        return {"oneOf": [_error_narrowing(choice) for choice in item["oneOf"]]}
    properties = item.get("properties", {})
    narrowed = {
        name: _narrowed(properties[name], ("enum", "pattern"))
        for name in ("code", "attr")
        if name in properties and _narrowed(properties[name], ("enum", "pattern"))
    }
    return {"properties": narrowed} if narrowed else {}


def _is_envelope(schema: dict) -> bool:
    """Whether a resolved response schema is the error envelope (a 503 of the health views is not)."""
    if "oneOf" in schema:
        return all(_is_envelope(choice) for choice in schema["oneOf"])
    return {"type", "errors"} <= set(schema.get("properties", {}))


def _envelope_narrowing(envelope: dict) -> dict:
    """What one error response adds to the shared envelope: its types, and per `attr` the codes it answers."""
    if "oneOf" in envelope:
        return {"oneOf": [_envelope_narrowing(choice) for choice in envelope["oneOf"]]}
    properties = envelope.get("properties", {})
    narrowed = {}
    if "enum" in properties.get("type", {}):
        narrowed["type"] = {"enum": properties["type"]["enum"]}
    items = _error_narrowing(properties.get("errors", {}).get("items", {}))
    if items:
        narrowed["errors"] = {"items": items}
    return {"properties": narrowed} if narrowed else {}


def _references(schema) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["$ref"].removeprefix(_COMPONENT_REF)} if isinstance(schema.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_references(item) for item in schema))
    return set()


def _reachable(roots: set[str], components: dict) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in seen and name in components:
            seen.add(name)
            todo.extend(_references(components[name]))
    return seen


def _error_media(result: dict):
    """Each (status, response, media type) of an error response in the schema's paths."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in (operation.get("responses") or {}).items():
                if str(status)[:1] in {"4", "5"}:
                    for media in (response.get("content") or {}).values():
                        yield status, response, media


def postprocess_shared_error_schema(result, generator, request, public):
    """Every error response refers to the one shared envelope (`ErrorResponse`), narrowed in place to the
    types, codes and attrs it answers, where drf-standardized-errors generates a family of components per
    operation and status (`OrdersCreateErrorResponse400`, `OrdersCreateLinesErrorComponent`, `Error404`,
    `Error404CodeEnum`, ...). What each operation answers is unchanged; the components of those variants go."""
    components = result.get("components", {}).get("schemas", {})
    shared = {"$ref": _COMPONENT_REF + ERROR_COMPONENT}
    replaced: set[str] = set()
    for status, response, media in _error_media(result):
        schema = media.get("schema")
        resolved = _resolved(schema, components) if schema else {}
        if resolved and schema != shared and _is_envelope(resolved):
            replaced |= _reachable(_references(schema), components)
            narrowing = _envelope_narrowing(resolved)
            media["schema"] = {"allOf": [shared, narrowing]} if narrowing else shared
        if not response.get("description"):
            response["description"] = HTTPStatus(int(status)).phrase
    if not replaced:
        return result
    still_used = _reachable(_references(result["paths"]), components)
    for name in replaced - still_used:
        del components[name]
    components[ERROR_COMPONENT] = error_envelope_schema()
    result["components"]["schemas"] = dict(sorted(components.items()))
    return result
