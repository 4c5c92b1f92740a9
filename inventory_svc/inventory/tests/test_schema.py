"""The OpenAPI schema of inventory_svc documents the error codes its views really answer."""

import re

import pytest
from service_kit.testing import documented_error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def validation_codes(schema, method: str, path: str, attr: str | None) -> set[str]:
    return documented_error_codes(schema, method, path, 400, attr=attr, error_type="validation_error")


def test_taken_sku_code_is_documented(schema):
    assert "unique" in validation_codes(schema, "post", "/api/inventory/products/", "sku")


def test_stock_ceiling_code_is_documented(schema):
    assert "stock_ceiling" in validation_codes(schema, "post", "/api/inventory/products/{sku}/restock/", "quantity")


def test_a_product_in_use_is_documented_as_a_409(schema):
    assert documented_error_codes(schema, "delete", "/api/inventory/products/{sku}/", 409) == {"product_in_use"}


def test_bad_page_size_is_documented_on_the_list_only(schema):
    documented = {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if validation_codes(schema, method, path, "page_size")
    }

    assert "invalid" in validation_codes(schema, "get", "/api/inventory/products/", "page_size")
    assert documented == {("get", "/api/inventory/products/")}


def test_page_parameters_are_documented_as_positive(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/inventory/products/"]["get"]["parameters"]}

    assert parameters["page"]["minimum"] == 1
    assert parameters["page_size"]["minimum"] == 1


def test_text_fields_document_that_nul_and_blank_text_are_refused(schema):
    properties = schema["components"]["schemas"]["ProductCreateRequest"]["properties"]
    name, description = properties["name"]["pattern"], properties["description"]["not"]["pattern"]

    assert not re.search(name, "a\x00b")
    assert not re.search(name, "   ")
    assert re.search(name, "Mug")
    assert re.search(description, "a\x00b")
    assert not re.search(description, "")


def test_search_documents_that_a_nul_character_is_refused(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/inventory/products/"]["get"]["parameters"]}

    assert not re.search(parameters["search"]["pattern"], "a\x00b")
    assert re.search(parameters["search"]["pattern"], "mug")
    assert validation_codes(schema, "get", "/api/inventory/products/", None) == {"null_characters_not_allowed"}
