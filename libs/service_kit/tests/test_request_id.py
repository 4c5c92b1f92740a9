"""X-Request-ID: echoed when safe, replaced otherwise, and carried by every JSON log line."""

import logging
import re

import pytest

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def test_valid_request_id_is_echoed(api_client):
    response = api_client.get("/api/kit/numbers/", HTTP_X_REQUEST_ID="req-42.a:b_c")

    assert response["X-Request-ID"] == "req-42.a:b_c"


def test_missing_request_id_is_replaced_by_a_fresh_one_per_request(api_client):
    first = api_client.get("/api/kit/numbers/")["X-Request-ID"]
    second = api_client.get("/api/kit/numbers/")["X-Request-ID"]

    assert HEX_ID.match(first)
    assert HEX_ID.match(second)
    assert first != second


@pytest.mark.parametrize(
    "malicious",
    ["abc\ninjected: header", "a" * 500, "has spaces", '"quoted"', "<script>", ""],
    ids=["newline", "500-chars", "spaces", "quotes", "markup", "empty"],
)
def test_unsafe_request_id_is_replaced(api_client, malicious):
    response = api_client.get("/api/kit/numbers/", HTTP_X_REQUEST_ID=malicious)

    assert HEX_ID.match(response["X-Request-ID"])


def test_error_responses_echo_the_request_id_too(api_client):
    response = api_client.get("/nope/", HTTP_X_REQUEST_ID="trace-404")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-404"


def test_log_line_is_json_with_service_and_request_id(api_client, json_log):
    api_client.get("/api/kit/log/", HTTP_X_REQUEST_ID="trace-log-1")

    line = next(line for line in json_log() if line["message"] == "log view called")
    assert line["service"] == "kit"
    assert line["request_id"] == "trace-log-1"
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.views"
    assert "time" in line


def test_log_line_without_a_request_has_no_request_id(json_log):
    logging.getLogger("tests.outside").warning("no request here")

    line = next(line for line in json_log() if line["message"] == "no request here")
    assert line["service"] == "kit"
    assert line["request_id"] is None


def test_log_line_of_a_rejected_request_carries_its_request_id(api_client, json_log):
    api_client.get("/api/kit/whoami/", HTTP_X_REQUEST_ID="trace-401")

    line = next(line for line in json_log() if line["logger"] == "django.request")
    assert line["request_id"] == "trace-401"
