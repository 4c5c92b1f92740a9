"""The shared URLs: OpenAPI 3 schema, Swagger UI and the admin under the service's prefix."""

import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3_json(api_client):
    response = api_client.get("/api/kit/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert {"/api/kit/health/", "/api/kit/whoami/", "/api/kit/numbers/"} <= set(schema["paths"])


def test_schema_is_yaml_by_default(api_client):
    response = api_client.get("/api/kit/schema/")

    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    validate(yaml.safe_load(response.content))


def test_schema_declares_bearer_auth(api_client):
    schema = api_client.get("/api/kit/schema/", {"format": "json"}).json()

    schemes = schema["components"]["securitySchemes"].values()
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes)


def test_docs_serve_swagger_ui(api_client):
    response = api_client.get("/api/kit/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "swagger" in response.content.decode().lower()


def test_admin_login_is_the_platforms_sign_in(client):
    response = client.get("/admin/kit/login/?next=/admin/kit/")

    assert response.status_code == 302
    assert response["Location"] == "/api/users/session/renew/?next=%2Fadmin%2Fkit%2F"
