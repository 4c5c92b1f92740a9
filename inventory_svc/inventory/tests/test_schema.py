"""The OpenAPI schema of inventory_svc documents the error codes its views really answer."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    response = api_client.get("/api/inventory/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def codes(schema, component: str) -> set[str]:
    return set(schema["components"]["schemas"][component]["properties"]["code"]["enum"])


def test_taken_sku_code_is_documented(schema):
    assert "unique" in codes(schema, "ProductsCreateSkuErrorComponent")


def test_stock_ceiling_code_is_documented(schema):
    assert "stock_ceiling" in codes(schema, "ProductsRestockCreateQuantityErrorComponent")


def test_bad_page_size_is_documented_on_the_list_only(schema):
    components = schema["components"]["schemas"]

    assert "invalid" in codes(schema, "ProductsListPageSizeErrorComponent")
    assert [name for name in components if "PageSize" in name] == ["ProductsListPageSizeErrorComponent"]


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
    refusal = schema["components"]["schemas"]["ProductsListErrorComponent"]["properties"]

    assert not re.search(parameters["search"]["pattern"], "a\x00b")
    assert re.search(parameters["search"]["pattern"], "mug")
    assert (refusal["attr"]["enum"], refusal["code"]["enum"]) == ([None], ["null_characters_not_allowed"])
