"""The gateway: routing to every service, shared operator pages, nginx's limits and request ids."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from openapi_spec_validator import validate

from .helpers import SERVICES, assert_envelope, wait_until

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@pytest.mark.parametrize("service", SERVICES)
def test_health_of_every_service_is_ok(api, service):
    response = api.get(f"/api/{service}/health/")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_live_and_ready(api, service):
    live, ready = api.get(f"/api/{service}/health/live/"), api.get(f"/api/{service}/health/ready/")

    assert (live.status_code, ready.status_code) == (200, 200), (live.text, ready.text)
    assert live.json() == {"service": service, "status": "ok"}
    assert ready.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize("service", SERVICES)
def test_schema_of_every_service_is_valid_openapi_3(api, service):
    response = api.get(f"/api/{service}/schema/", params={"format": "json"})

    assert response.status_code == 200, response.text
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert any(path.startswith(f"/api/{service}/") for path in schema["paths"])


@pytest.mark.parametrize("service", SERVICES)
def test_schema_is_served_for_the_openapi_json_media_type(api, service):
    response = api.get(f"/api/{service}/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})

    assert response.status_code == 200, response.text
    validate(response.json())


@pytest.mark.parametrize("service", SERVICES)
def test_docs_of_every_service_are_swagger_ui(api, service):
    response = api.get(f"/api/{service}/docs/")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "swagger" in response.text.lower()


@pytest.mark.parametrize("path", ["/nope/", "/api/nope/", "/api/users/nope/", "/api/orders/nope/nope/"])
def test_unknown_route_is_404_json_envelope(api, path):
    response = api.get(path, headers={"Accept": "text/html"})

    assert_envelope(response, 404, "client_error")


def test_body_over_the_size_limit_is_413_envelope(api):
    body = b'{"email": "big@example.com", "password": "' + b"x" * (2 * 1024 * 1024) + b'"}'

    response = api.post("/api/users/register/", data=body, headers={"Content-Type": "application/json"})

    assert_envelope(response, 413)


def test_burst_of_sign_in_attempts_is_throttled_with_429_envelope(make_session):
    session = make_session()

    def attempt(_):
        return session.post("/api/users/token/", json={"email": "nobody@example.com", "password": "wrong"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(attempt, range(40)))

    statuses = {response.status_code for response in responses}
    assert statuses <= {401, 429}, statuses
    throttled = [response for response in responses if response.status_code == 429]
    assert throttled, "no 429 in 40 concurrent sign-in attempts"
    body = assert_envelope(throttled[0], 429, "client_error")
    assert body["errors"][0]["code"] == "throttled"


def test_client_request_id_is_echoed(api):
    response = api.get("/api/users/health/", headers={"X-Request-ID": "e2e-trace-1234"})

    assert response.headers["X-Request-ID"] == "e2e-trace-1234"


def test_missing_request_id_is_generated_per_request(api):
    first = api.get("/api/inventory/health/").headers["X-Request-ID"]
    second = api.get("/api/inventory/health/").headers["X-Request-ID"]

    assert SAFE_REQUEST_ID.match(first)
    assert SAFE_REQUEST_ID.match(second)
    assert first != second


@pytest.mark.parametrize(
    "malformed", ["a" * 500, "has spaces; and <markup>", 'quote"d'], ids=["long", "markup", "quote"]
)
def test_malformed_request_id_is_replaced(api, malformed):
    response = api.get("/api/orders/health/", headers={"X-Request-ID": malformed})

    echoed = response.headers["X-Request-ID"]
    assert echoed != malformed
    assert SAFE_REQUEST_ID.match(echoed)


# What nginx refuses while reading a request (before any service sees it), and what it lets through to
# gunicorn just under each limit: both answer in the envelope, never an HTML page of nginx or gunicorn.
NGINX_LINE_LIMIT = 8000
LONG = "a" * (NGINX_LINE_LIMIT + 100)
JUST_UNDER = "a" * (NGINX_LINE_LIMIT - 100)


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/api/orders/%00", {}, 400, "bad_request"),
        (f"/api/orders/?q={LONG}", {}, 414, "uri_too_long"),
        ("/api/orders/", {"X-Long": LONG}, 431, "request_header_too_large"),
        ("/api/orders/", {f"X-Many-{i}": JUST_UNDER for i in range(5)}, 431, "request_header_too_large"),
        # Just under nginx's limits: gunicorn's are looser, so the service itself answers.
        (f"/api/orders/?q={JUST_UNDER}", {}, 401, "not_authenticated"),
        ("/api/orders/", {"X-Long": JUST_UNDER}, 401, "not_authenticated"),
        ("/api/orders/", {f"X-Many-{i}": "a" for i in range(300)}, 401, "not_authenticated"),
    ],
    ids=["nul-in-path", "long-url", "long-header", "headers-over-32k", "url-under", "header-under", "300-headers"],
)
def test_requests_nginx_or_gunicorn_refuse_are_answered_in_the_envelope(api, path, headers, status, code):
    response = api.get(path, headers={"Accept": "application/json", **headers})

    body = assert_envelope(response, status, "client_error")
    assert body["errors"][0]["code"] == code
    assert response.headers["X-Request-ID"]


def test_flower_may_not_be_framed_by_another_site(api, flower_credentials):
    for response in (api.get("/flower/"), api.get("/flower/", auth=flower_credentials)):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Request-ID"]


def test_error_responses_carry_the_request_id(api):
    response = api.get("/nope/", headers={"X-Request-ID": "e2e-trace-404"})

    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "e2e-trace-404"


def test_flower_requires_credentials(api):
    response = api.get("/flower/", allow_redirects=False)

    assert response.status_code == 401


def test_flower_opens_with_its_credentials(api, flower_credentials):
    response = api.get("/flower/", auth=flower_credentials)

    assert response.status_code == 200
    assert "flower" in response.text.lower()


def test_flower_shows_the_worker_of_every_service_with_messages(api, flower_credentials):
    def listed() -> set[str]:
        response = api.get("/flower/api/workers", auth=flower_credentials)
        assert response.status_code == 200, response.text
        return {name.split("@")[0] for name, info in response.json().items() if "stats" in info}

    # Flower inspects workers on its own as they come up (monitoring/flower_app.py); nobody asks it to.
    messaging = {"inventory", "orders", "payments"}  # users_svc sends and receives none: it runs no worker
    wait_until(lambda: listed() >= messaging, timeout=30, interval=1, message="every worker in Flower")


def test_flower_shows_the_saga_tasks_of_an_order(api, flower_credentials, buyer, make_product):
    product = make_product(stock=3)
    placed = buyer.post(
        "/api/orders/", json={"lines": [{"sku": product["sku"], "quantity": 1}], "payment_method": "pm_card_visa"}
    )
    assert placed.status_code == 201, placed.text
    saga = {"inventory.reserve", "orders.stock_reserved", "payments.charge", "orders.payment_succeeded"}

    def seen() -> set[str]:
        tasks = api.get("/flower/api/tasks", auth=flower_credentials).json().values()
        return {task["name"] for task in tasks if placed.json()["id"] in str(task.get("args"))}

    wait_until(lambda: seen() >= saga, timeout=30, message="the saga's tasks in Flower")


def test_spoofed_forwarded_headers_are_overwritten(api):
    response = api.get(
        "/api/inventory/products/",
        params={"page_size": 1},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "6.6.6.6"},
    )

    assert response.status_code == 200
    assert response.json()["next"].startswith(api.base_url + "/api/inventory/products/")
