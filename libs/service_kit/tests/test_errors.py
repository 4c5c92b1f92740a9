"""The error envelope outside and inside DRF: unknown routes, crashes, unparsable bodies."""

import socket
import threading
import time

import pytest
from django.db import OperationalError, connections
from django.db.backends.postgresql.base import DatabaseWrapper
from rest_framework.test import APIClient
from service_kit.testing import assert_envelope


@pytest.mark.parametrize("path", ["/nope/", "/api/kit/nope/", "/admin-ish/"])
def test_unknown_route_is_404_json_envelope(api_client, path):
    response = api_client.get(path, HTTP_ACCEPT="text/html")

    assert_envelope(response, status=404, error_type="client_error", code="not_found")


@pytest.mark.parametrize(
    ("kind", "status", "error_type", "code", "attr", "detail"),
    [
        ("invalid-field", 400, "validation_error", "too_long", "text", "Too long."),
        ("invalid-request", 400, "validation_error", "invalid", None, "Not today."),
        ("unauthenticated", 401, "client_error", "user_not_found", None, "Gone."),
        (
            "forbidden",
            403,
            "client_error",
            "permission_denied",
            None,
            "You do not have permission to perform this action.",
        ),
        ("not-found", 404, "client_error", "not_found", None, "Not found."),
        ("conflict", 409, "client_error", "in_use", None, "In use."),
        ("unprocessable", 422, "client_error", "key_reused", None, "Key reused."),
        ("django-validation", 400, "validation_error", "bad_text", "text", "Bad text."),
        ("django-404", 404, "client_error", "not_found", None, "Not found."),
        (
            "django-permission",
            403,
            "client_error",
            "permission_denied",
            None,
            "You do not have permission to perform this action.",
        ),
    ],
)
def test_the_handler_answers_each_raised_error_in_the_envelope(
    api_client, kind, status, error_type, code, attr, detail
):
    response = api_client.get(f"/api/kit/refusals/{kind}/")

    body = assert_envelope(response, status=status, error_type=error_type)
    assert body["errors"] == [{"code": code, "detail": detail, "attr": attr}]


def test_a_service_401_names_the_bearer_scheme(api_client):
    response = api_client.get("/api/kit/refusals/unauthenticated/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_invalid_with_details_answers_every_field(api_client):
    response = api_client.get("/api/kit/refusals/invalid-fields/")

    body = assert_envelope(response, status=400, error_type="validation_error")
    assert sorted((error["attr"], error["code"]) for error in body["errors"]) == [
        ("text", "too_long"),
        ("title", "too_long"),
    ]


@pytest.fixture
def crash_client():
    return APIClient(raise_request_exception=False)


def test_crash_in_a_drf_view_is_500_envelope_without_details(crash_client):
    response = crash_client.get("/api/kit/boom/")

    body = assert_envelope(response, status=500, error_type="server_error")
    assert "boom" not in response.content.decode()
    assert body["errors"][0]["attr"] is None


def test_crash_in_a_plain_view_is_500_envelope(crash_client):
    response = crash_client.get("/plain/boom/")

    assert_envelope(response, status=500, error_type="server_error", code="error")
    assert "plain boom" not in response.content.decode()


def test_unparsable_json_is_400_parse_error(staff_client):
    response = staff_client.post("/api/kit/notes/", data=b'{"text": ', content_type="application/json")

    assert_envelope(response, status=400, error_type="client_error", code="parse_error")


def test_form_body_is_415(staff_client):
    response = staff_client.post("/api/kit/notes/", data=b"text=hi", content_type="application/x-www-form-urlencoded")

    assert_envelope(response, status=415, error_type="client_error", code="unsupported_media_type")


def test_body_over_the_upload_limit_is_413_envelope(staff_client):
    staff_client.raise_request_exception = False
    oversized = b'{"text": "' + b"a" * (2 * 1024 * 1024) + b'"}'

    response = staff_client.post("/api/kit/notes/", data=oversized, content_type="application/json")

    assert_envelope(response, status=413, error_type="client_error")


@pytest.mark.parametrize("path", ["/api/kit/database-down/", "/plain/database-down/"])
def test_a_database_that_does_not_answer_is_503_envelope(crash_client, path):
    response = crash_client.get(path)

    assert response.status_code == 503
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "service_unavailable",
                "detail": "The service's database is unavailable; try again shortly.",
                "attr": None,
            }
        ],
    }


def test_a_database_server_that_never_answers_fails_the_connection_within_its_connect_timeout(django_db_blocker):
    """DATABASE_CONNECT_TIMEOUT bounds a connection to a server that takes it and says nothing (a hung host,
    a lost route): the request then answers 503 (above) instead of waiting for gunicorn to kill its worker."""
    silent = socket.create_server(("127.0.0.1", 0))  # listens: the kernel completes the handshake, no one answers
    params = {**connections["default"].settings_dict, "HOST": "127.0.0.1", "PORT": silent.getsockname()[1]}
    timeout = params["OPTIONS"]["connect_timeout"]
    assert timeout == 5  # the default
    wrapper = DatabaseWrapper(params, alias="silent")
    outcome = []

    def connect():
        started = time.monotonic()
        try:
            with django_db_blocker.unblock():
                wrapper.ensure_connection()
        except OperationalError as exc:
            outcome.append((time.monotonic() - started, exc))

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout + 20)
    silent.close()

    assert not thread.is_alive(), "the connection still waits"
    waited, error = outcome[0]
    assert timeout - 1 <= waited < timeout + 20
    assert "timeout" in str(error)


def test_the_published_non_blank_pattern_refuses_exactly_what_drf_trims_to_nothing():
    import re
    import sys

    from service_kit.fields import NON_BLANK_TEXT_PATTERN

    whitespace = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    assert not any(re.match(NON_BLANK_TEXT_PATTERN, char * 3) for char in whitespace)
    # Text that is not blank to Python is not blank to the schema either: \ufeff is no whitespace there.
    assert all(re.match(NON_BLANK_TEXT_PATTERN, text) for text in ["a", " a ", "\ufeff", "\x1ca"])
    assert not re.match(NON_BLANK_TEXT_PATTERN, "a\x00b")


@pytest.mark.parametrize("allow_blank", [False, True])
def test_a_text_field_s_max_length_counts_the_text_as_sent_not_as_trimmed(allow_blank):
    from rest_framework.exceptions import ValidationError
    from service_kit.fields import TextField

    field = TextField(max_length=5, allow_blank=allow_blank)

    assert field.run_validation(" abcd ".strip()) == "abcd"
    for text in ["\x1fabcde", " abcde", "      "]:  # 6 characters, 5 or none once trimmed
        with pytest.raises(ValidationError, match="no more than 5 characters"):
            field.run_validation(text)
