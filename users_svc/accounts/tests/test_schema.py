"""The OpenAPI schema of users_svc documents every status and error code its views really answer."""

import pytest
from service_kit.testing import documented_error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def responses(schema, method: str, path: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


def test_sign_in_documents_wrong_credentials_and_the_gateways_rate_limit(schema):
    assert {"200", "401", "429"} <= responses(schema, "post", "/api/users/token/")


def test_registration_documents_the_gateways_rate_limit(schema):
    assert {"201", "400", "429"} <= responses(schema, "post", "/api/users/register/")


def test_refresh_documents_a_bad_token(schema):
    assert {"200", "401"} <= responses(schema, "post", "/api/users/token/refresh/")


def test_revoke_documents_another_users_token(schema):
    assert {"205", "400", "401", "403"} <= responses(schema, "post", "/api/users/token/revoke/")


def test_taken_email_code_is_documented(schema):
    assert "unique" in documented_error_codes(
        schema, "post", "/api/users/register/", 400, attr="email", error_type="validation_error"
    )


def test_revoking_a_bad_token_code_is_documented(schema):
    assert "token_not_valid" in documented_error_codes(
        schema, "post", "/api/users/token/revoke/", 400, attr="refresh", error_type="validation_error"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/users/token/"), ("post", "/api/users/token/refresh/"), ("get", "/api/users/me/")],
)
def test_every_401_code_of_the_accounts_is_documented(schema, method, path):
    codes = documented_error_codes(schema, method, path, 401)

    assert {"token_not_valid", "not_authenticated", "no_active_account", "user_not_found"} <= codes
