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


@pytest.mark.parametrize(("field", "blank"), [("name", False), ("description", True)])
def test_text_fields_document_that_nul_and_blank_text_are_refused(schema, field, blank):
    prop = schema["components"]["schemas"]["ProductCreateRequest"]["properties"][field]
    pattern = next(item["pattern"] for item in prop.get("oneOf", [prop]) if "pattern" in item)

    assert not re.search(pattern, "a\x00b")
    assert bool(re.search(pattern, "   ")) is blank
    assert re.search(pattern, "Mug")
