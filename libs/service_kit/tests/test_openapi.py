"""Every error response of a schema refers to the one shared envelope, narrowed to what it really answers."""

import pytest
from service_kit.openapi import AUTHENTICATION_ERROR_CODES, ERROR_COMPONENT, error_envelope_schema
from service_kit.testing import documented_error_codes

pytestmark = pytest.mark.django_db

SHARED = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def error_responses(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    yield f"{method.upper()} {path} {status}", response["content"]["application/json"]["schema"]


def test_the_shared_envelope_is_the_only_error_component(schema):
    components = schema["components"]["schemas"]

    assert components[ERROR_COMPONENT] == error_envelope_schema()
    assert [name for name in components if "Error" in name] == [ERROR_COMPONENT]


def test_every_error_envelope_refers_to_the_shared_one(schema):
    health = {"$ref": "#/components/schemas/Health"}
    envelopes = {name: body for name, body in error_responses(schema) if body != health}

    assert len(envelopes) > 20
    assert all(body == SHARED or body["allOf"][0] == SHARED for body in envelopes.values())


def test_the_health_views_503_keeps_its_own_body(schema):
    response = schema["paths"]["/api/kit/health/ready/"]["get"]["responses"]["503"]

    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}
    assert response["description"] == "Service Unavailable"


def test_each_status_keeps_its_codes(schema):
    assert documented_error_codes(schema, "get", "/api/kit/whoami/", 401) == set(AUTHENTICATION_ERROR_CODES)
    assert documented_error_codes(schema, "post", "/api/kit/notes/", 403) == {"permission_denied"}
    assert documented_error_codes(schema, "get", "/api/kit/numbers/", 404) == {"not_found"}
    assert documented_error_codes(schema, "get", "/api/kit/boom/", 500, error_type="server_error") == {"error"}


def test_validation_codes_stay_bound_to_their_field_and_type(schema):
    def codes(**kwargs):
        return documented_error_codes(schema, "post", "/api/kit/notes/", 400, **kwargs)

    assert {"blank", "max_length", "required"} <= codes(attr="text", error_type="validation_error")
    assert "parse_error" not in codes(attr="text", error_type="validation_error")
    assert codes(error_type="client_error") == {"parse_error"}
    assert codes(attr="title", error_type="validation_error") == set()
    assert documented_error_codes(
        schema, "get", "/api/kit/numbers/", 400, attr="page_size", error_type="validation_error"
    ) == {"invalid"}


def test_an_error_component_left_by_nobody_but_error_responses_goes(schema):
    referenced = str(schema["paths"])

    assert "ErrorResponse400" not in referenced
    assert "discriminator" not in referenced


def test_every_operation_documents_the_503_of_a_database_outage(schema):
    for path, item in schema["paths"].items():
        for method in item:
            if "/health/" in path:
                continue
            assert documented_error_codes(schema, method, path, 503, error_type="server_error") == {
                "service_unavailable"
            }, f"{method} {path}"
