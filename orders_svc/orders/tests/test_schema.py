"""The OpenAPI schema of orders_svc documents the error codes and names its views really answer."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    response = api_client.get("/api/orders/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def component(schema, name: str) -> dict:
    return schema["components"]["schemas"][name]


def test_line_rules_codes_are_documented(schema):
    codes = set(component(schema, "OrdersCreateLinesErrorComponent")["properties"]["code"]["enum"])

    assert {"duplicate_sku", "invalid", "min_length"} <= codes


def test_bad_idempotency_key_is_documented(schema):
    attr = component(schema, "OrdersCreateIdempotency-KeyErrorComponent")["properties"]["attr"]

    assert attr["enum"] == ["Idempotency-Key"]


def test_errors_of_a_line_are_documented_with_the_index_the_envelope_names(schema):
    attr = component(schema, "OrdersCreateLinesINDEXSkuErrorComponent")["properties"]["attr"]

    assert re.search(attr["pattern"], "lines.0.sku")
    assert re.search(attr["pattern"], "lines.49.sku")
    assert not re.search(attr["pattern"], "lines.INDEX.sku")
    assert "discriminator" not in component(schema, "OrdersCreateError")


def test_an_order_documents_at_least_one_line(schema):
    assert component(schema, "OrderPlaceInputRequest")["properties"]["lines"]["minItems"] == 1


def test_every_401_code_of_the_token_check_is_documented(schema):
    codes = component(schema, "Error401")["properties"]["code"]
    enum = component(schema, codes["$ref"].rsplit("/", 1)[1])["enum"]

    assert {"not_authenticated", "authentication_failed", "token_not_valid"} <= set(enum)


def test_the_error_of_a_null_line_is_documented_on_the_line_itself(schema):
    attr = component(schema, "OrdersCreateLinesINDEXNonFieldErrorsErrorComponent")["properties"]["attr"]

    assert re.search(attr["pattern"], "lines.5")
    assert re.search(attr["pattern"], "lines.5.non_field_errors")
    assert not re.search(attr["pattern"], "lines.5.sku")
