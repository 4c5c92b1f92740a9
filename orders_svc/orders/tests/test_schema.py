"""The OpenAPI schema of orders_svc documents the error codes and names its views really answer."""

import pytest
from service_kit.testing import documented_error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def placement_codes(schema, attr: str | None) -> set[str]:
    return documented_error_codes(schema, "post", "/api/orders/", 400, attr=attr, error_type="validation_error")


def test_line_rules_codes_are_documented(schema):
    assert {"duplicate_sku", "invalid", "min_length"} <= placement_codes(schema, "lines")


def test_bad_idempotency_key_is_documented(schema):
    assert placement_codes(schema, "Idempotency-Key") == {"invalid"}


def test_a_reused_idempotency_key_is_documented_as_a_422(schema):
    assert documented_error_codes(schema, "post", "/api/orders/", 422) == {"idempotency_key_reused"}


def test_errors_of_a_line_are_documented_with_the_index_the_envelope_names(schema):
    assert "blank" in placement_codes(schema, "lines.0.sku")
    assert "blank" in placement_codes(schema, "lines.49.sku")
    assert placement_codes(schema, "lines.INDEX.sku") == set()
    assert "discriminator" not in str(schema["paths"]["/api/orders/"]["post"]["responses"]["400"])


def test_an_order_documents_at_least_one_line(schema):
    assert schema["components"]["schemas"]["OrderPlaceInputRequest"]["properties"]["lines"]["minItems"] == 1


def test_every_401_code_of_the_token_check_is_documented(schema):
    codes = documented_error_codes(schema, "get", "/api/orders/", 401)

    assert {"not_authenticated", "authentication_failed", "token_not_valid"} <= codes


def test_the_error_of_a_null_line_is_documented_on_the_line_itself(schema):
    assert placement_codes(schema, "lines.5") == {"invalid", "null", "required"}
    assert placement_codes(schema, "lines.5.non_field_errors") == {"invalid", "null", "required"}
    assert "null_characters_not_allowed" in placement_codes(schema, "lines.5.sku")
